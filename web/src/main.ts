// Entry point: the projector app.
import { mount } from 'svelte';

import App from './panels/App.svelte';
import './styles.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target });
