import { decodeErrorInfo } from './error-info';
import { encodeErrorInfo } from './error-info.testing';

describe('decodeErrorInfo', () => {
  it('reads the reason, domain and metadata and skips fields it does not know', () => {
    const bytes = encodeErrorInfo('QUANTITY_EXCEEDS_RECEIVED', 'invisible.app', {
      invoice: 'INV-2024-001',
      line: '3',
    });

    expect(decodeErrorInfo(bytes)).toEqual({
      reason: 'QUANTITY_EXCEEDS_RECEIVED',
      domain: 'invisible.app',
      metadata: { invoice: 'INV-2024-001', line: '3' },
    });
  });

  it('reads an empty message as empty fields', () => {
    expect(decodeErrorInfo(new Uint8Array())).toEqual({ reason: '', domain: '', metadata: {} });
  });
});
