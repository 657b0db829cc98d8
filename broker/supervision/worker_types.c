/* worker_types.c: node.workers' groups to worker slots (worker_types.h). */
#include "worker_types.h"

#include <stdio.h>
#include <stdlib.h>

bool
corral_worker_types_count_cpus(const corral_config_t *config)
{
    for (int i = 0; i < config->node.type_count; i++)
        if (config->node.types[i].count_auto && config->node.types[i].http)
            return true;
    return false;
}

bool
corral_worker_types_memory_capped(const corral_config_t *config)
{
    for (int i = 0; i < config->node.type_count; i++)
        if (!config->node.types[i].max_memory)
            return false;
    return config->node.type_count > 0;
}

/* How many workers each type runs. */
static int
count_of(const corral_config_t *config, const corral_worker_group_t *type, int usable_cpus)
{
    if (!type->count_auto)
        return type->count;
    if (!type->http)
        return 1;
    int sharing = 0, first = -1, index = (int) (type - config->node.types);
    for (int i = 0; i < config->node.type_count; i++)
        if (config->node.types[i].count_auto && config->node.types[i].http) {
            sharing++;
            if (first < 0)
                first = i;
        }
    int share = usable_cpus / sharing;
    if (index == first)
        share += usable_cpus % sharing;     /* the first auto type takes the rest */
    return share < 1 ? 1 : share;
}

int
corral_worker_slots_plan(corral_worker_slots_t *slots, const corral_config_t *config,
                         int usable_cpus)
{
    *slots = (corral_worker_slots_t) { NULL, 0, 0 };
    int total = 0;
    for (int i = 0; i < config->node.type_count; i++)
        total += count_of(config, &config->node.types[i], usable_cpus);
    slots->specs = calloc((size_t) total, sizeof *slots->specs);
    if (!slots->specs)
        return -1;
    for (int i = 0; i < config->node.type_count; i++) {
        const corral_worker_group_t *type = &config->node.types[i];
        int count = count_of(config, type, usable_cpus);
        for (int n = 1; n <= count; n++) {
            corral_slot_spec_t *spec = &slots->specs[slots->slot_count++];
            /* a single group counts its workers across the instance, a
             * named type within itself */
            if (type->name[0])
                snprintf(spec->name, sizeof spec->name, "%s-%d", type->name, n % 10000);
            else
                snprintf(spec->name, sizeof spec->name, "worker-%d", slots->slot_count);
            spec->type = type;
            spec->http = type->http;
            spec->listen_index = type->http ? ++slots->http_count : 0;
            spec->may_be_main = type->main;
            spec->max_memory = type->max_memory;
            spec->recycle_max_rss = type->recycle.max_rss;
            spec->recycle_max_requests = type->recycle.max_requests;
            spec->recycle_jitter_percent = type->recycle.jitter_percent;
        }
    }
    return 0;
}

void
corral_worker_slots_clear(corral_worker_slots_t *slots)
{
    free(slots->specs);
    *slots = (corral_worker_slots_t) { NULL, 0, 0 };
}
