/* SPDX-License-Identifier: MIT */
/*
 * libshm/error.c - messages for the negative error codes that libshm and
 * the client return, in the words an operator needs to act on them.
 */
#include <string.h>

#include "shm.h"

const char *shmet__strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case SHMET_E_NOTSEG:
        return "not a shmetrics segment (bad magic)";
    case SHMET_E_ABI:
        return "segment has an unsupported ABI major version";
    case SHMET_E_TRUNCATED:
        return "segment is truncated (smaller than its header says)";
    case SHMET_E_GEOMETRY:
        return "segment geometry is out of range or inconsistent";
    case -ENOENT:
        return "no such segment (no producer or aggregator has created it)";
    case -EACCES:
    case -EPERM:
        return "permission denied on the segment (check its mode and group)";
    case -ENOSPC:
        return "no space left (shared memory full, or arena/series limit reached)";
    case -EINVAL:
        return "invalid argument (name, label, namespace or geometry)";
    case -EEXIST:
        return "already exists with a different definition";
    case -EMFILE:
        return "too many open clients in this process";
    case -EAGAIN:
        return "no free slot in the segment";
    default:
        return err < 0 ? strerror(-err) : "unknown error";
    }
}
