import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import qrcode from 'qrcode-generator';

/** The dark modules of a QR code of `text`, row by row (true = dark), without the quiet zone. */
export function qrMatrix(text: string): boolean[][] {
  // Type 0 picks the smallest version that fits; M corrects ~15 % damage, plenty for a screen.
  const code = qrcode(0, 'M');
  code.addData(text, 'Byte');
  code.make();
  const size = code.getModuleCount();
  return Array.from({ length: size }, (_, row) =>
    Array.from({ length: size }, (_, col) => code.isDark(row, col)),
  );
}

/** One SVG path of unit squares, one per dark module, offset by the quiet zone. */
export function qrPath(matrix: readonly (readonly boolean[])[], quietZone: number): string {
  const parts: string[] = [];
  matrix.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) {
        parts.push(`M${x + quietZone} ${y + quietZone}h1v1h-1z`);
      }
    }),
  );
  return parts.join('');
}

const quietZone = 4;

/**
 * A QR code as inline SVG (crisp at any size, no canvas, nothing for the CSP to block). Dark on white with the
 * standard four-module quiet zone, so phone cameras read it whatever the page background.
 */
@Component({
  selector: 'app-qr-code',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <svg
      role="img"
      [attr.aria-label]="label()"
      [attr.viewBox]="'0 0 ' + extent() + ' ' + extent()"
      shape-rendering="crispEdges"
      xmlns="http://www.w3.org/2000/svg"
    >
      <rect width="100%" height="100%" fill="#fff" />
      <path [attr.d]="path()" fill="#000" />
    </svg>
  `,
  styles: `
    :host {
      display: block;
      width: 14rem;
      max-width: 100%;
    }
    svg {
      display: block;
      width: 100%;
      height: auto;
    }
  `,
})
export class QrCode {
  readonly text = input.required<string>();
  readonly label = input.required<string>();

  private readonly matrix = computed(() => qrMatrix(this.text()));
  protected readonly extent = computed(() => this.matrix().length + 2 * quietZone);
  protected readonly path = computed(() => qrPath(this.matrix(), quietZone));
}
