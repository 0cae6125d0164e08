import { Sha256 } from './sha256';

const text = (value: string) => new TextEncoder().encode(value);

describe('Sha256', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ])('hashes %j to the FIPS 180-4 vector', (input, digest) => {
    expect(new Sha256().update(text(input)).hex()).toBe(digest);
  });

  it('gives the same digest whatever the chunk sizes', () => {
    const data = text('a'.repeat(1_000_000));
    const whole = new Sha256().update(data).hex();
    const chunked = new Sha256();
    for (let offset = 0, size = 1; offset < data.length; offset += size, size = ((size * 7) % 997) + 1) {
      chunked.update(data.subarray(offset, offset + size));
    }
    expect(whole).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
    expect(chunked.hex()).toBe(whole);
  });
});
