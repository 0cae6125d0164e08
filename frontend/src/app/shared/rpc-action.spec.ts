import { Code, ConnectError } from '@connectrpc/connect';

import { toRpcError } from '../rpc/errors';
import { RpcAction } from './rpc-action';

describe('RpcAction', () => {
  it('is busy while the work runs, and not afterwards', async () => {
    const action = new RpcAction();
    let finish!: () => void;
    const busyDuring: boolean[] = [];

    const done = action.run(async () => {
      busyDuring.push(action.busy());
      await new Promise<void>((resolve) => (finish = resolve));
    });
    busyDuring.push(action.busy());
    finish();

    expect(await done).toBe(true);
    expect(busyDuring).toEqual([true, true]);
    expect(action.busy()).toBe(false);
    expect(action.error()).toBeUndefined();
  });

  it('shows a failure as the user-facing message instead of throwing it', async () => {
    const action = new RpcAction();

    const done = await action.run(() =>
      Promise.reject(toRpcError(new ConnectError('No vendor NOPE in this organisation.', Code.NotFound))),
    );

    expect(done).toBe(false);
    expect(action.error()).toBe('No vendor NOPE in this organisation.');
    expect(action.busy()).toBe(false);
  });

  it('keeps the server’s diagnostic detail off the screen', async () => {
    const action = new RpcAction();

    await action.run(() => Promise.reject(new ConnectError('NullReferenceException at …', Code.Internal)));

    expect(action.error()).not.toContain('NullReferenceException');
    expect(action.error()).not.toBe('');
  });

  it('words failures with the function it was given', async () => {
    const action = new RpcAction((failure) => `Could not sign in: ${(failure as Error).message}`);

    await action.run(() => Promise.reject(new Error('offline')));

    expect(action.error()).toBe('Could not sign in: offline');
  });

  it('clears the previous error when it runs again', async () => {
    const action = new RpcAction();
    action.fail('Give the key a name, so you can tell it apart later.');
    let errorWhileRunning: string | undefined = 'not read';

    await action.run(async () => {
      errorWhileRunning = action.error();
    });

    expect(errorWhileRunning).toBeUndefined();
    expect(action.error()).toBeUndefined();
  });

  it('shows what the form’s own checks found, and forgets it on request', () => {
    const action = new RpcAction();

    action.fail('Enter your name.');
    expect(action.error()).toBe('Enter your name.');
    expect(action.busy()).toBe(false);

    action.clear();
    expect(action.error()).toBeUndefined();
  });
});
