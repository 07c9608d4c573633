// mq_notify as the mqueue kind sees it (mqueue_notify.cpp).
//
// The kernel shows that a queue has a registration and whose it is
// (NOTIFY_PID in the queue file), but not its sigev_value: the mq_notify
// wrapper remembers each registration this process made, by queue. It also
// runs SIGEV_THREAD notifications itself, as glibc would: glibc's helper
// thread blocks every signal, so it could never be suspended and a program
// that asked for one could not be checkpointed; and its cookie holds a
// pointer we could not rebuild. Ours is a netlink socket in libckpt's
// protected range, read by a helper thread that blocks everything but the
// suspend signal; the cookie names a slot of the table below.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

namespace ckpt::mqueue {

struct Registration {
  uint64_t dev, ino;  // the queue
  int32_t kind;       // SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD
  int32_t signo;
  union sigval value;
  void (*function)(union sigval);  // SIGEV_THREAD
  bool has_attr;
  pthread_attr_t attr;
  sigset_t creator_mask;  // the notification thread runs with the registering thread's mask
  bool live;
};

// This process's registration on queue (dev, ino) as its wrapper recorded
// it, or -1. Allocation- and lock-free (for DRAIN).
int find_registration(uint64_t dev, uint64_t ino);
const Registration& registration(int slot);
// mq_notify(fd, slot's registration) by raw system call; 0 or -errno.
long register_again(int fd, int slot);
// mq_notify(fd, NULL) by raw system call; 0 or -errno.
long unregister(int fd);

// DRAIN: takes the SIGEV_THREAD notifications that arrived and that the
// helper has not read out of the socket (a restart would lose them with it);
// the helper runs them once it runs again. False if there were too many.
bool take_arrived_notifications();

// CKPT_EVENT_FORK_CHILD: the parent's registrations and helper are not the child's.
void notify_forget();
// CKPT_EVENT_RESTART: a new netlink socket for SIGEV_THREAD registrations
// (the helper reads it after the restart); false if none could be made.
bool notify_new_socket();

}  // namespace ckpt::mqueue
