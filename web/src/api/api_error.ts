// The error every API call throws: the server's JSON error (docs/api.md), or a network failure.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Status 0: the request never got an answer (server stopped, network down). */
export const NETWORK_ERROR_CODE = 'network_error';

interface ErrorBody {
  error?: { code?: unknown; message?: unknown };
}

/** The ApiError of a failed response, from its JSON body when it has one. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const body = (await response.json()) as ErrorBody;
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // Not JSON (a proxy's HTML page, say): keep the status line.
  }
  return new ApiError(response.status, code, message);
}
