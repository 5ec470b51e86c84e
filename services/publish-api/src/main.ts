#!/usr/bin/env node
/** Entry point of the publish API process: runPublishApi(process.env) through the shared entry (libs/runtime). */
import { runMain } from '@herald/runtime';
import { runPublishApi } from './run.js';

runMain('publish-api', runPublishApi);
