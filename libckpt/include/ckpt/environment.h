/* The environment contract between the tools and libckpt.so and its
 * plugins: what ckpt_launch sets for the program (and every process of the
 * computation inherits), and what libckpt reads. The user-facing twins of
 * the tools' options carry the same names. One name, one place. */
#ifndef CKPT_ENVIRONMENT_H
#define CKPT_ENVIRONMENT_H

#define CKPT_ENV_COORD_HOST "CKPT_COORD_HOST"
#define CKPT_ENV_COORD_PORT "CKPT_COORD_PORT"
#define CKPT_ENV_SECRET_FILE "CKPT_SECRET_FILE" /* the computation's secret (coordinator/include/ckpt/auth.h) */
#define CKPT_ENV_DIR "CKPT_DIR"                 /* absolute: where images go */
#define CKPT_ENV_INTERVAL "CKPT_INTERVAL"       /* seconds, 0: only on request */
#define CKPT_ENV_COMPRESS "CKPT_COMPRESS"       /* 1 or 0 */
/* Threads compressing an image: 0 one per CPU the process may run on (at
 * most 8), 1 none besides the writer's own, N (at most
 * CKPT_MAX_COMPRESS_THREADS) that many. */
#define CKPT_ENV_COMPRESS_THREADS "CKPT_COMPRESS_THREADS"
#define CKPT_MAX_COMPRESS_THREADS 64
#define CKPT_ENV_FSYNC "CKPT_FSYNC" /* 1 or 0: images left in the page cache, not durable */
#define CKPT_ENV_ACCEPT_LOSS "CKPT_ACCEPT_LOSS" /* 1: placeholders and warnings instead of failing */
#define CKPT_ENV_INCREMENTAL "CKPT_INCREMENTAL" /* 1 (default) or 0: incremental images */
#define CKPT_ENV_FULL_EVERY "CKPT_FULL_EVERY"   /* images per chain at most: then a full one */
#define CKPT_DEFAULT_FULL_EVERY 8
#define CKPT_MAX_FULL_EVERY 1000
#define CKPT_ENV_FILE_POLICY "CKPT_FILE_POLICY" /* validated GLOB=POLICY rules, one per line */
#define CKPT_ENV_SIGNAL "CKPT_SIGNAL"           /* the suspend signal */
#define CKPT_ENV_OUTSIDE_CONNECTIONS "CKPT_OUTSIDE_CONNECTIONS" /* close (default) or fail (plugins/socket) */
#define CKPT_ENV_STDIO "CKPT_STDIO"             /* the computation's standard streams (plugins/fd) */
#define CKPT_ENV_PIDTABLE "CKPT_PIDTABLE"       /* the shared pid table's file (plugins/pid) */
#define CKPT_ENV_SYSVTABLE "CKPT_SYSVTABLE"     /* the shared System V id table's file (plugins/sysv) */
#define CKPT_ENV_HOST_NAME "CKPT_HOST_NAME" /* the host this process runs on, as the computation names it */
#define CKPT_ENV_RSH "CKPT_RSH"             /* the remote shell whose commands join the computation */
#define CKPT_ENV_TMPDIR "CKPT_TMPDIR"         /* where ckpt keeps a process's temporary files */
#define CKPT_ENV_MODIFY_ENV "CKPT_MODIFY_ENV" /* 1: restarts apply the image directory's dmtcp_env.txt */
#define CKPT_ENV_PATH_MAP "CKPT_PATH_MAP"     /* validated VIRTUAL=REAL prefixes, one per line (plugins/path) */
/* DMTCP's twin of --path-map: "VIRTUAL:REAL;VIRTUAL:REAL...", read by
 * ckpt_launch and ckpt_restart when no --path-map is given. */
#define CKPT_ENV_DMTCP_PATH_MAPPING "DMTCP_PATH_MAPPING"
#define CKPT_ENV_USER_PRELOAD "CKPT_USER_PRELOAD" /* LD_PRELOAD as given to ckpt_launch, without libckpt.so
                                                  * (ckpt_nocheckpoint's programs get it back) */
#define CKPT_ENV_LOG "CKPT_LOG"                 /* debug|info|warn|error */
#define CKPT_ENV_LOG_DIR "CKPT_LOG_DIR"

/* The name (/proc/PID/task/TID/comm) of every process's checkpoint thread:
 * how a process of the computation, or the coordinator on the same
 * machine, tells it from the application's threads when it continues a
 * stopped process for a checkpoint (plugins/signal/job_control.cpp). Its
 * signal mask cannot tell: during a checkpoint the application's threads,
 * parked in the suspend handler, block every signal too. */
#define CKPT_CHECKPOINT_THREAD_NAME "ckpt-checkpoint"

/* Each user's private directory for logs and coordinator secrets: "${TMPDIR:-/tmp}/ckpt-UID",
 * made with mode 0700 and used only while it is a directory that this user
 * owns and nobody else can write (another user could have made it first). */
#define CKPT_PRIVATE_DIR_FORMAT "%s/ckpt-%u"

/* The environment file a restart applies with ckpt_launch --modify-env or
 * ckpt_restart --modify-env, in the image's directory (DMTCP's name). */
#define CKPT_MODIFY_ENV_FILE "dmtcp_env.txt"

/* The remote shell, by default: "ssh HOST COMMAND..." runs COMMAND on HOST. */
#define CKPT_DEFAULT_RSH "ssh"

#endif /* CKPT_ENVIRONMENT_H */
