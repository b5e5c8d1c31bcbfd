// The app's API client (one per page): over HTTP, relative to the page's URL, unless the
// notebook widget gives it the comm (widget.ts).

import { ApiClient } from '../api/client';

export const api = new ApiClient();
