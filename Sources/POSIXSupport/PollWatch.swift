// Something a wait on a child keeps an eye on besides the child (sshccd's client stream): its descriptors
// are polled with the child's, it hears what poll said about them, and it can end the wait.

public protocol PollWatch: AnyObject {
    /// Descriptors to poll alongside the child's, in the order `service` expects.
    var pollEntries: [Poll.Entry] { get }
    /// Acts on what poll reported for `pollEntries`.
    func service(_ ready: ArraySlice<Poll.Ready>)
    /// The party watched has gone: the child is to be stopped.
    var abandoned: Bool { get }
}
