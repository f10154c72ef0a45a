"""Linux's own confinement for the child, below anything Python code can undo.

The audit hook (guard.py) gives clear messages, but C code (libpq, a compiled extension) never
passes through it. Two kernel facilities close that gap where the kernel offers them:

- Landlock (landlock(7), https://docs.kernel.org/userspace-api/landlock.html): no file is
  written, created, removed or renamed outside the scratch folder; no TCP connect or bind
  (ABI 4); no signal to a process outside the child (ABI 6, so it cannot kill its parent).
- seccomp (seccomp(2)): connect(2), bind(2), listen(2), sendto(2) with an address, sendmsg(2),
  execve(2) and fork-like clone(2) fail with EACCES; clone3(2) reports ENOSYS so that threads
  are made with clone(2), whose flags can be read.

Each one is applied only when the kernel and architecture support it; `apply` says which were.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

# Syscall numbers per architecture (asm/unistd.h), and the audit architecture seccomp reports.
_ARCHES = {
    "x86_64": dict(audit=0xC000003E, connect=42, bind=49, listen=50, sendto=44, sendmsg=46, sendmmsg=307,
                   execve=59, execveat=322, clone=56, clone3=435, fork=57, vfork=58,
                   landlock=(444, 445, 446)),
    "aarch64": dict(audit=0xC00000B7, connect=203, bind=200, listen=201, sendto=206, sendmsg=211, sendmmsg=269,
                    execve=221, execveat=281, clone=220, clone3=435, landlock=(444, 445, 446)),
}
_X32_BIT = 0x40000000
_CLONE_THREAD = 0x00010000

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35
_JSET = 0x45
_RET = 0x06

# Landlock access rights (linux/landlock.h).
_FS_WRITE_FILE = 1 << 1
_FS_REMOVE_DIR, _FS_REMOVE_FILE = 1 << 4, 1 << 5
_FS_MAKE = sum(1 << bit for bit in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6
_RULE_PATH_BENEATH = 1


def apply(scratch: str) -> list[str]:
    """Confine this process for good; the names of the layers that took effect."""
    arch = _ARCHES.get(platform.machine())
    if not sys.platform.startswith("linux") or arch is None:
        return []
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return []
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return []
    applied = []
    if _landlock(libc, arch["landlock"], scratch):
        applied.append("landlock")
    if _seccomp(libc, arch):
        applied.append("seccomp")
    return applied


def _landlock(libc, numbers: tuple[int, int, int], scratch: str) -> bool:
    create, add_rule, restrict = numbers
    abi = libc.syscall(create, None, ctypes.c_size_t(0), ctypes.c_uint32(1))  # LANDLOCK_CREATE_RULESET_VERSION
    if abi < 1:
        return False
    handled = _FS_WRITE_FILE | _FS_REMOVE_DIR | _FS_REMOVE_FILE | _FS_MAKE
    if abi >= 2:
        handled |= _FS_REFER
    if abi >= 3:
        handled |= _FS_TRUNCATE
    net = _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0
    scoped = _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("=QQQ", handled, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    buffer = ctypes.create_string_buffer(attr[:size], size)
    ruleset = libc.syscall(create, buffer, ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    try:
        file_rights = handled & (_FS_WRITE_FILE | _FS_TRUNCATE)
        for path, rights in ((scratch, handled), ("/dev/null", file_rights)):
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rule = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd), 12)
                libc.syscall(add_rule, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), rule,
                             ctypes.c_uint32(0))
            finally:
                os.close(fd)
        return libc.syscall(restrict, ctypes.c_int(ruleset), ctypes.c_uint32(0)) == 0
    finally:
        os.close(ruleset)


def _seccomp(libc, arch: dict) -> bool:
    program = _filter(arch)
    instructions = (ctypes.c_ubyte * len(program)).from_buffer_copy(program)
    fprog = struct.pack("HxxxxxxP", len(program) // 8, ctypes.addressof(instructions))
    buffer = ctypes.create_string_buffer(fprog, len(fprog))
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, buffer, 0, 0) == 0


def _filter(arch: dict) -> bytes:
    """A BPF program over seccomp_data {int nr; u32 arch; u64 ip; u64 args[6]} (little-endian)."""
    deny = _RET_ERRNO | errno.EACCES
    denied = [arch[name] for name in ("connect", "bind", "listen", "sendmsg", "sendmmsg", "execve", "execveat",
                                      "fork", "vfork") if name in arch]
    code: list[tuple] = [(_LD_ABS, 0, 0, 4), (_JEQ, "nr", "deny", arch["audit"]), ("nr",), (_LD_ABS, 0, 0, 0)]
    if arch["audit"] == _ARCHES["x86_64"]["audit"]:
        code.append((_JGE, "deny", 0, _X32_BIT))
    for number in denied:
        code.append((_JEQ, "deny", 0, number))
    code += [
        (_JEQ, "nosys", 0, arch["clone3"]),
        (_JEQ, "sendto", 0, arch["sendto"]),
        (_JEQ, "clone", "allow", arch["clone"]),
        ("sendto",), (_LD_ABS, 0, 0, 16 + 8 * 4), (_JEQ, 0, "deny", 0),
        (_LD_ABS, 0, 0, 16 + 8 * 4 + 4), (_JEQ, "allow", "deny", 0),
        ("clone",), (_LD_ABS, 0, 0, 16), (_JSET, "allow", "deny", _CLONE_THREAD),
        ("allow",), (_RET, 0, 0, _RET_ALLOW),
        ("deny",), (_RET, 0, 0, deny),
        ("nosys",), (_RET, 0, 0, _RET_ERRNO | errno.ENOSYS),
    ]
    return _assemble(code)


def _assemble(code: list[tuple]) -> bytes:
    labels, index = {}, 0
    for item in code:
        if len(item) == 1:
            labels[item[0]] = index
        else:
            index += 1
    out, index = [], 0
    for item in code:
        if len(item) == 1:
            continue
        op, jt, jf, k = item
        jt = labels[jt] - index - 1 if isinstance(jt, str) else jt
        jf = labels[jf] - index - 1 if isinstance(jf, str) else jf
        out.append(struct.pack("=HBBI", op, jt, jf, k))
        index += 1
    return b"".join(out)
