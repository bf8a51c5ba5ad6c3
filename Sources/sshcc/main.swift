// sshcc: the compiler wrapper (`sshcc gcc -c x.c`, or a symlink named like a compiler). All logic lives in
// SSHCCClient; this file only hands over argv and exits with the status.

import SSHCCClient

#if canImport(Glibc)
    import Glibc
#endif

exit(Wrapper.main(CommandLine.arguments))
