/* layout_json.h: the json layout: one ECS-style JSON object per line:
 *   {"@timestamp": "2012-02-01T09:30:22.011-05:00" (local time),
 *    "message": ..., "log": {"level": "INFO", "logger": ...},
 *    "process": {"pid": ...}, "worker": {"id": 2, "name": "worker-2"},
 *    "event": {"sequence": ...}, "error": {"message": ...}, ...meta}
 * The meta object's keys are merged in; they never replace these fields. */
#ifndef CORRAL_LAYOUT_JSON_H
#define CORRAL_LAYOUT_JSON_H

#include "layout.h"

corral_layout_t *corral_layout_json_new(void);

#endif
