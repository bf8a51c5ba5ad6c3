// sshcc: the compiler wrapper (`sshcc gcc -c x.c`, or a symlink named like a compiler). All logic lives in
// SSHCCClient; this file only hands over argv and exits with the status.

import POSIXSupport
import SSHCCClient

CurrentProcess.exit(Wrapper.main(CommandLine.arguments))
