// Something a wait on a child keeps an eye on besides the child (sshccd's client stream): its descriptors
// are polled with the child's, it hears what poll said about them, and it can end the wait.

#if canImport(Glibc)
    import Glibc
#endif

public protocol PollWatch: AnyObject {
    /// Descriptors to poll alongside the child's, in the order `service` expects.
    var pollEntries: [pollfd] { get }
    /// Acts on what poll reported for `pollEntries`.
    func service(_ entries: ArraySlice<pollfd>)
    /// The party watched has gone: the child is to be stopped.
    var abandoned: Bool { get }
}
