import { RpcError, toRpcError } from '../rpc/errors';

/**
 * The sentence to show for a failed sign-in step. The generic mapping hides the message of every `Unauthenticated`
 * answer ("your session has ended"), which is right for a call made with a session but wrong for the sign-in form,
 * where the server's (deliberately vague) answer is what the user needs.
 */
export function signInMessage(failure: unknown): string {
  const error = failure instanceof RpcError ? failure : toRpcError(failure);
  switch (error.reason) {
    case 'SIGN_IN_FAILED':
      return 'The e-mail address or password is incorrect.';
    case 'TOO_MANY_ATTEMPTS': {
      const seconds = Number(error.errorInfo?.metadata['retry_after_seconds']);
      return Number.isFinite(seconds) && seconds > 0
        ? `Too many attempts. Try again in ${Math.ceil(seconds / 60)} minute${seconds > 60 ? 's' : ''}.`
        : error.message;
    }
    default: {
      // "The password does not meet the policy." says little without the rules it broke.
      const details = error.fieldViolations.map((violation) => violation.description);
      return details.length === 0 ? error.message : `${error.message} ${details.join(' ')}`;
    }
  }
}

export function reasonOf(failure: unknown): string | undefined {
  return (failure instanceof RpcError ? failure : toRpcError(failure)).reason;
}
