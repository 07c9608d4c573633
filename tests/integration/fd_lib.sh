# Helpers of the fd tests: decode what plugins/fd saved in an image
# (programs/fd_image_dump.cpp). Source after harness.sh.

FD_DUMP=$H_PROGRAMS/it_fd_image_dump

# fd_records IMAGE OUT: the "fds" section of IMAGE, one line per descriptor
# ("fd N kind K desc V:F ... path P"), into OUT.
fd_records() {
  "$FD_DUMP" "$1" fds >"$2" || h_fail "cannot decode section fds of $1"
}

# fd_field RECORDS FD NAME: the value after NAME on descriptor FD's line.
fd_field() {
  awk -v fd="$2" -v name="$3" '$1 == "fd" && $2 == fd { for (i = 3; i < NF; i += 2) if ($i == name) print $(i + 1) }' "$1"
}

# fd_expect RECORDS FD NAME VALUE: fails the test unless they match.
fd_expect() {
  local got
  got=$(fd_field "$1" "$2" "$3")
  [ "$got" = "$4" ] || h_fail "$(basename "$1"): fd $2: $3 is '$got', expected '$4'"
}

# fd_section IMAGE NAME: the bytes of section NAME.
fd_section() { "$FD_DUMP" "$1" section "$2"; }

# fd_desc_hex V:F: a desc_id as it appears in section names (%016lx).
fd_desc_hex() { printf '%08x%08x' "${1%%:*}" "${1##*:}"; }
