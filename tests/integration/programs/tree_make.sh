#!/bin/bash
# make -j2 building a small C program in stages, as a long build would:
# make forks shells, gcc forks cc1 and as joined by a pipe (-pipe), ld runs
# at the end.
#
# usage: tree_make.sh WORKDIR [STAGES=6] [FILES_PER_STAGE=4]
#
# Prints "step K" after stage K is built, so a checkpoint taken after step 1
# lands while make and compilers of a later stage run. At the end runs the
# program and prints a digest of every object file: both are deterministic
# (no -g, so no paths in the objects).
set -eu -o pipefail
work=$1
stages=${2:-6}
per_stage=${3:-4}
cd "$work"

# Each unit's function is a long chain of arithmetic, so that compiling it
# takes long enough for a checkpoint to catch the compilers.
for ((s = 1; s <= stages; s++)); do
  for ((f = 1; f <= per_stage; f++)); do
    {
      echo "unsigned long unit_${s}_${f}(unsigned long x) {"
      for ((i = 0; i < 300; i++)); do
        echo "  x = (x * $((i * 2 + 3))u + $((s * 1000 + f * 10 + i))u) ^ (x >> $((i % 13 + 1)));"
        echo "  if (x % $((i + 7))u == $((i % 5))u) x += $((i * 31 + f))u;"
      done
      echo "  return x;"
      echo "}"
    } >"unit_${s}_${f}.c"
  done
done
{
  echo "#include <stdio.h>"
  for ((s = 1; s <= stages; s++)); do
    for ((f = 1; f <= per_stage; f++)); do echo "unsigned long unit_${s}_${f}(unsigned long);"; done
  done
  echo "int main(void) {"
  echo "  unsigned long x = 1;"
  for ((s = 1; s <= stages; s++)); do
    for ((f = 1; f <= per_stage; f++)); do echo "  x = unit_${s}_${f}(x); printf(\"unit_${s}_${f} %lu\\n\", x);"; done
  done
  echo "  return 0;"
  echo "}"
} >main.c
{
  echo "CFLAGS = -O2 -pipe"
  for ((s = 1; s <= stages; s++)); do
    objs=""
    for ((f = 1; f <= per_stage; f++)); do objs+=" unit_${s}_${f}.o"; done
    echo "stage$s:$objs"
  done
  all=""
  for f in unit_*.c; do all+=" ${f%.c}.o"; done
  echo "prog: main.o$all"
  printf '\t$(CC) -o $@ $^\n'
  echo "%.o: %.c"
  printf '\t$(CC) $(CFLAGS) -c -o $@ $<\n'
} >Makefile

for ((s = 1; s <= stages; s++)); do
  make -s -j2 "stage$s"
  echo "step $s"
done
make -s -j2 prog
./prog
md5sum ./*.o | sort -k2
