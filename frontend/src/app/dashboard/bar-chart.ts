import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

import type { Tone } from '../shared/status';

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly tone?: Tone;
}

const toneColours: Readonly<Record<Tone, string>> = {
  success: '#1f7a45',
  danger: '#b42323',
  warning: '#a35a00',
  info: '#2763b8',
  neutral: '#5b6675',
};

const rowHeight = 28;
const labelWidth = 150;
const barAreaWidth = 260;
const valueWidth = 60;

/**
 * A horizontal bar chart drawn as inline SVG (no chart library: the initial bundle stays small). The numbers are in
 * the drawing as text too, and the figure's accessible name lists them, so nothing is conveyed by length alone.
 */
@Component({
  selector: 'app-bar-chart',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <figure>
      <figcaption>{{ caption() }}</figcaption>
      @if (bars().length === 0) {
        <p class="empty">{{ emptyText() }}</p>
      } @else {
        <svg
          role="img"
          [attr.aria-label]="summary()"
          [attr.viewBox]="'0 0 ' + width + ' ' + height()"
          [attr.height]="height()"
          preserveAspectRatio="xMinYMin meet"
        >
          @for (bar of rows(); track bar.label; let i = $index) {
            <g [attr.transform]="'translate(0,' + i * rowHeight + ')'">
              <text class="label" x="0" [attr.y]="rowHeight / 2" dominant-baseline="middle">
                {{ bar.label }}
              </text>
              <rect
                [attr.x]="labelWidth"
                y="5"
                [attr.width]="bar.width"
                [attr.height]="rowHeight - 10"
                rx="3"
                [attr.fill]="bar.colour"
              />
              <text
                class="value"
                [attr.x]="labelWidth + bar.width + 6"
                [attr.y]="rowHeight / 2"
                dominant-baseline="middle"
              >
                {{ bar.value }}
              </text>
            </g>
          }
        </svg>
      }
    </figure>
  `,
  styles: `
    figure {
      margin: 0;
    }
    figcaption {
      margin-bottom: 0.5rem;
      font-weight: 600;
    }
    svg {
      width: 100%;
      max-width: 30rem;
      overflow: visible;
    }
    text {
      font-size: 13px;
      fill: #1b2430;
    }
    .empty {
      margin: 0;
      color: var(--color-muted);
    }
  `,
})
export class BarChart {
  readonly caption = input.required<string>();
  readonly bars = input.required<readonly Bar[]>();
  readonly emptyText = input('Nothing to show yet.');

  protected readonly rowHeight = rowHeight;
  protected readonly labelWidth = labelWidth;
  protected readonly width = labelWidth + barAreaWidth + valueWidth;

  protected readonly height = computed(() => Math.max(1, this.bars().length) * rowHeight);

  protected readonly rows = computed(() => {
    const bars = this.bars();
    const largest = Math.max(1, ...bars.map((bar) => bar.value));
    return bars.map((bar) => ({
      label: bar.label,
      value: bar.value,
      // A non-zero value keeps a visible sliver.
      width: bar.value === 0 ? 0 : Math.max(2, Math.round((bar.value / largest) * barAreaWidth)),
      colour: toneColours[bar.tone ?? 'info'],
    }));
  });

  protected readonly summary = computed(
    () =>
      `${this.caption()}: ${this.bars()
        .map((bar) => `${bar.label} ${bar.value}`)
        .join(', ')}`,
  );
}
