import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';

import {
  badRequestTypeName,
  decodeBadRequest,
  decodeErrorInfo,
  errorInfoTypeName,
  type ErrorInfo,
  type FieldViolation,
} from './error-info';

/**
 * A failed call as the app sees it: `message` is a sentence to show to the person using the app,
 * `reason` (from `google.rpc.ErrorInfo`) is what code branches on, never the message text.
 * The server's own message stays on `cause`.
 *
 * Connect re-wraps anything thrown by an interceptor that does not look like a ConnectError (by
 * its `name`) as an `Unknown` error, so this class extends ConnectError and keeps its name.
 */
export class RpcError extends ConnectError {
  constructor(
    userMessage: string,
    cause: ConnectError,
    readonly errorInfo: ErrorInfo | undefined,
  ) {
    super(userMessage, cause.code, cause.metadata, undefined, cause);
    this.message = userMessage;
    this.details = cause.details;
  }

  get reason(): string | undefined {
    return this.errorInfo?.reason;
  }

  /** What is wrong with each field of the request (`google.rpc.BadRequest`), for showing next to the form's fields. */
  get fieldViolations(): readonly FieldViolation[] {
    for (const detail of this.details) {
      if ('type' in detail && detail.type === badRequestTypeName) {
        return decodeBadRequest(detail.value);
      }
    }
    return [];
  }

  /** ConnectError's own check accepts any ConnectError-shaped value; an RpcError must have been mapped. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === 'object' &&
      value !== null &&
      Object.prototype.isPrototypeOf.call(RpcError.prototype, value)
    );
  }
}

interface CodeWording {
  /** Shown when the server's own message cannot be shown. */
  readonly fallback: string;
  /**
   * The server writes actionable messages for errors the user can fix; for the rest its message
   * is diagnostic detail that belongs in the server log, not on screen.
   */
  readonly showServerMessage: boolean;
}

const serverFault: CodeWording = {
  fallback:
    'Something went wrong on the server. Try again; if it keeps happening, contact your administrator.',
  showServerMessage: false,
};

const wording: Readonly<Record<Code, CodeWording>> = {
  [Code.Canceled]: { fallback: 'The request was cancelled.', showServerMessage: false },
  [Code.Unknown]: serverFault,
  [Code.InvalidArgument]: {
    fallback: 'Some of the information sent is not valid.',
    showServerMessage: true,
  },
  [Code.DeadlineExceeded]: {
    fallback: 'The server took too long to answer. Try again.',
    showServerMessage: false,
  },
  [Code.NotFound]: { fallback: 'The requested item was not found.', showServerMessage: true },
  [Code.AlreadyExists]: { fallback: 'This item already exists.', showServerMessage: true },
  [Code.PermissionDenied]: {
    fallback: 'You do not have permission to do this.',
    showServerMessage: true,
  },
  [Code.ResourceExhausted]: {
    fallback: 'Too many requests. Wait a moment and try again.',
    showServerMessage: true,
  },
  [Code.FailedPrecondition]: {
    fallback: 'This action is not possible in the current state.',
    showServerMessage: true,
  },
  [Code.Aborted]: {
    fallback: 'Someone else changed this at the same time. Reload and try again.',
    showServerMessage: true,
  },
  [Code.OutOfRange]: { fallback: 'A value is outside the allowed range.', showServerMessage: true },
  [Code.Unimplemented]: {
    fallback: 'This feature is not available on this server yet.',
    showServerMessage: false,
  },
  [Code.Internal]: serverFault,
  [Code.Unavailable]: {
    fallback: 'The server cannot be reached. Check your connection and try again.',
    showServerMessage: false,
  },
  [Code.DataLoss]: serverFault,
  [Code.Unauthenticated]: {
    fallback: 'Your session has ended. Sign in again.',
    showServerMessage: false,
  },
};

/** Maps any failure of a call (a ConnectError, an abort, a network error) to an {@link RpcError}. */
export function toRpcError(failure: unknown): RpcError {
  if (failure instanceof RpcError) {
    return failure;
  }
  const error = ConnectError.from(failure);
  const { fallback, showServerMessage } = wording[error.code];
  const serverMessage = error.rawMessage.trim();
  const message = showServerMessage && serverMessage !== '' ? serverMessage : fallback;
  return new RpcError(message, error, findErrorInfo(error));
}

function findErrorInfo(error: ConnectError): ErrorInfo | undefined {
  for (const detail of error.details) {
    // Details sent by a server arrive as raw bytes with their type name.
    if ('type' in detail && detail.type === errorInfoTypeName) {
      return decodeErrorInfo(detail.value);
    }
  }
  return undefined;
}

/**
 * Turns every failure into an {@link RpcError}, including those raised while a server stream is
 * being read. It must be the outermost interceptor so that it sees the final outcome of the others
 * (for example the retry after a token refresh).
 */
export const errorMappingInterceptor: Interceptor = (next) => async (request) => {
  try {
    const response = await next(request);
    return response.stream ? { ...response, message: mapStreamErrors(response.message) } : response;
  } catch (failure) {
    throw toRpcError(failure);
  }
};

async function* mapStreamErrors<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (failure) {
    throw toRpcError(failure);
  }
}
