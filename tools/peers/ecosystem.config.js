// ecosystem.config.js: app.js under PM2 in cluster mode (PM2's daemon is
// the cluster primary), WORKERS instances on PORT, as a PM2 user would
// configure it. tools/bench-rfc.sh starts it with a private PM2_HOME.
'use strict';

const path = require('node:path');

module.exports = {
  apps: [{
    name: 'peer',
    script: path.join(__dirname, 'app.js'),
    exec_mode: 'cluster',
    instances: Number(process.env.WORKERS || 2),
    env: { PORT: process.env.PORT },
    autorestart: false,
    merge_logs: false,
  }],
};
