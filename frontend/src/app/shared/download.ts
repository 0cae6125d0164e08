/** Hands bytes to the browser as a file download (an export, an error CSV). */
export function saveFile(
  document: Document,
  content: Uint8Array,
  fileName: string,
  contentType: string,
): void {
  const blob = new Blob([content as Uint8Array<ArrayBuffer>], {
    type: contentType || 'application/octet-stream',
  });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked on the next task: the click has started the download by then.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
