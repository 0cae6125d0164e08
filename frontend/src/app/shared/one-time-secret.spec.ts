import { OneTimeSecret } from './one-time-secret';

describe('OneTimeSecret', () => {
  const written: string[] = [];
  let allowed = true;

  beforeAll(() => {
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: {
        writeText: (text: string) => {
          if (!allowed)
            return Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'));
          written.push(text);
          return Promise.resolve();
        },
      },
    });
  });

  afterAll(() => {
    Reflect.deleteProperty(navigator, 'clipboard');
  });

  it('shows the secret until it is hidden, and says whether copying it worked', async () => {
    const key = new OneTimeSecret('key');
    expect(key.value()).toBeUndefined();

    key.show('ink_abcdef0123456789');
    allowed = true;
    await key.copy();
    expect(written).toEqual(['ink_abcdef0123456789']);
    expect(key.copied()).toBe('Copied.');

    allowed = false;
    await key.copy();
    expect(key.copied()).toBe('Copying was not allowed; select the key and copy it.');

    key.hide();
    expect(key.value()).toBeUndefined();
    expect(key.copied()).toBe('');
  });
});
