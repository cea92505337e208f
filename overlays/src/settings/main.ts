import { mount } from 'svelte';
import './settings.css';
import SettingsPage from './SettingsPage.svelte';

const target = document.getElementById('app');
if (target !== null) mount(SettingsPage, { target });
