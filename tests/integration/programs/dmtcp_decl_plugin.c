/* A DMTCP plugin library declared with DMTCP_DECL_PLUGIN, preloaded with
 * ckpt_launch --with-plugin: ckpt registers it at start-up. It counts the
 * checkpoints it saw begin; the program (dmtcp_plugin.c) asks. */
#include "dmtcp.h"

static int g_presuspends;

int decl_plugin_presuspends(void) { return g_presuspends; }

static void hook(DmtcpEvent_t event, DmtcpEventData_t *data) {
  (void)data;
  if (event == DMTCP_EVENT_PRESUSPEND) g_presuspends++;
}

static DmtcpPluginDescriptor_t g_plugin = {
    DMTCP_PLUGIN_API_VERSION, DMTCP_PACKAGE_VERSION, "declared", "ckpt tests", "", "counts checkpoints", hook};

DMTCP_DECL_PLUGIN(g_plugin)
