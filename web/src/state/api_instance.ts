// The page's API client (one per page; relative to the page's URL).

import { ApiClient } from '../api/client';

export const api = new ApiClient();
