#!/usr/bin/env node
/** Entry point of the gateway process: runGateway(process.env) through the shared entry (libs/runtime). */
import { runMain } from '@herald/runtime';
import { runGateway } from './run.js';

runMain('herald gateway', runGateway);
