// Entry point: the projector app, as the page the server serves.
import { mount } from 'svelte';

import App from './panels/App.svelte';
import { app, initialTheme } from './state/app.svelte';
import { startApp } from './state/loading';
import { decodeView } from './state/url_state';
import './styles.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
app.theme = initialTheme(true);
mount(App, { target });
// The view of a shared link is in the URL hash.
void startApp(decodeView(location.hash), new URLSearchParams(location.hash.slice(1)).has('projection'));
