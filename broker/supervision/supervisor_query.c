/* supervisor_query.c: what the coordinator reads of the supervisor: its
 * processes (names, pids, links), lookups by pid or by match, and the
 * supervision fields of the views and the stop line. Decides nothing. */
#include "supervisor.h"
#include "supervisor_private.h"

#include <stdio.h>

const char *
corral_exit_reason_name(corral_exit_reason_t reason)
{
    static const char *const names[] = { "crashed", "hung", "memory", "recycled", "stopped" };
    return reason < CORRAL_EXIT_REASONS ? names[reason] : "?";
}

static const char *
state_name(corral_slot_state_t state)
{
    static const char *const names[] = {
        "empty", "starting", "ready", "stopping", "exited", "waiting" };
    return names[state];
}

/* --- Accessors ------------------------------------------------------------------ */

int corral_process_slot(const corral_process_t *p) { return p->slot_id; }
pid_t corral_process_pid(const corral_process_t *p) { return p->pid; }
uint32_t corral_process_generation(const corral_process_t *p) { return p->generation; }
bool corral_process_main(const corral_process_t *p) { return p->main; }
void *corral_process_link(const corral_process_t *p) { return p->link; }
bool corral_process_starting(const corral_process_t *p) { return p->state == CORRAL_SLOT_STARTING; }
void corral_process_set_link(corral_process_t *p, void *link) { p->link = link; }

corral_process_t *
corral_supervisor_main(const corral_supervisor_t *self)
{
    return self->main;
}

bool
corral_supervisor_booted(const corral_supervisor_t *self)
{
    return self->booted;
}

const char *
corral_process_name(const corral_process_t *process)
{
    return corral_supervisor_slot_of(process)->spec.name;
}

uint64_t
corral_process_max_memory(const corral_process_t *process)
{
    return corral_supervisor_slot_of(process)->spec.max_memory;
}

/* --- Lookups and views ------------------------------------------------------------ */

int
corral_supervisor_live(const corral_supervisor_t *self)
{
    int live = 0;
    for (int i = 0; i < self->slot_capacity; i++)
        live += (self->slots[i]->current != NULL) + (self->slots[i]->beside != NULL);
    for (const corral_process_t *p = self->retiring; p; p = p->next_retiring)
        live++;
    return live;
}

static corral_process_t *
find_in(corral_supervisor_t *self, slot_t *slot, corral_process_match_fn *match, void *arg)
{
    if (slot->current && match(slot->current, arg))
        return slot->current;
    if (slot->beside && match(slot->beside, arg))
        return slot->beside;
    for (corral_process_t *p = self->retiring; p; p = p->next_retiring)
        if (p->slot_id == slot->id && match(p, arg))
            return p;
    return NULL;
}

corral_process_t *
corral_supervisor_find(corral_supervisor_t *self, corral_process_match_fn *match, void *arg)
{
    corral_process_t *found = NULL;
    for (int i = 0; !found && i < self->slot_capacity; i++)
        found = find_in(self, self->slots[i], match, arg);
    return found;
}

corral_process_t *
corral_supervisor_find_in_slot(corral_supervisor_t *self, int slot_id,
                               corral_process_match_fn *match, void *arg)
{
    if (slot_id < 1 || slot_id > self->slot_capacity)
        return NULL;
    return find_in(self, self->slots[slot_id - 1], match, arg);
}

static bool
has_pid(const corral_process_t *process, void *pid)
{
    return process->pid == *(pid_t *) pid;
}

corral_process_t *
corral_supervisor_process(corral_supervisor_t *self, pid_t pid)
{
    return corral_supervisor_find(self, has_pid, &pid);
}

corral_process_t *
corral_supervisor_current(corral_supervisor_t *self, int slot_id)
{
    return slot_id >= 1 && slot_id <= self->slot_count ? self->slots[slot_id - 1]->current
                                                       : NULL;
}

void
corral_supervisor_describe_restarts(const corral_supervisor_t *self, char *out, size_t size)
{
    const uint64_t *by = self->restarts_by_reason;
    snprintf(out, size, "%llu crashed, %llu hung, %llu memory, %llu recycled",
             (unsigned long long) by[CORRAL_EXIT_CRASHED],
             (unsigned long long) by[CORRAL_EXIT_HUNG],
             (unsigned long long) by[CORRAL_EXIT_MEMORY],
             (unsigned long long) by[CORRAL_EXIT_RECYCLED]);
}

void
corral_supervisor_fill_view(corral_supervisor_t *self, int slot_id,
                            Corral__V1__WorkerView *view)
{
    if (slot_id < 1 || slot_id > self->slot_count)
        return;
    slot_t *slot = self->slots[slot_id - 1];
    view->restarts = slot->restarts;
    view->last_exit = slot->exits.has_last ? &slot->exits.last : NULL;
    view->state = (char *) state_name(slot->current ? slot->current->state : slot->state);
    if (slot->current) {
        view->started_unix_ms = slot->current->started_unix_ms;
        view->generation = slot->current->generation;
        view->config_generation = slot->current->config_generation;
    }
    int64_t left = slot->restart_at_ms - corral_supervisor_now(slot->owner);
    view->restart_in_ms = slot->restart_timer != -1 ? (uint64_t) (left > 1 ? left : 1) : 0;
}
