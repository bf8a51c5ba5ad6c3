// How text a client sent appears in a refusal or a log line: escaped and cut short, so that a hostile
// argument can neither forge log lines (a newline, a terminal escape) nor make one message huge.

/// `text` as it may be quoted back: bytes outside printable ASCII as `\xNN`, at most `limit` bytes shown.
public func shown<Text: StringProtocol>(_ text: Text, limit: Int = 120) -> String {
    var out = ""
    var count = 0
    let bytes = Array(text.utf8)
    for (index, byte) in bytes.enumerated() {
        if count >= limit {
            return out + "…(\(bytes.count - index) more bytes)"
        }
        if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") {
            out.unicodeScalars.append(Unicode.Scalar(byte))
            count += 1
        } else {
            let hex = String(byte, radix: 16)
            out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            count += 4
        }
    }
    return out
}
