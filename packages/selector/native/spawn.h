/* Child processes for @loop/selector's `processes` driver: see spawn.c. */
#ifndef LOOP_SELECTOR_SPAWN_H
#define LOOP_SELECTOR_SPAWN_H

#include <node_api.h>

/* Adds spawnSupport, spawn, reap and closeFd to the addon's exports. */
void spawn_define(napi_env env, napi_value exports);

#endif
