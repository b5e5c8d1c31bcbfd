// Entry point. For now it mounts the renderer preview on generated data; the API-driven app
// (data panel, projections, inspector, bookmarks — issue 4) replaces PreviewApp.
import { mount } from 'svelte';

import PreviewApp from './panels/PreviewApp.svelte';
import './styles.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(PreviewApp, { target });
