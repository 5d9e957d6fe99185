#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why writing to an output failed.
public enum OutputError: Error, Sendable, Equatable {
    /// The reader went away (EPIPE); tools end quietly with status 0.
    case brokenPipe
    /// Any other write error, with its `errno`.
    case failed(errno: Int32)
}

/// An unbuffered writer to a file descriptor that reports a closed pipe as a value, not a signal.
public struct FileDescriptorOutput: Sendable {
    /// The descriptor written to.
    public let descriptor: Int32

    /// A writer for the given descriptor.
    public init(descriptor: Int32) { self.descriptor = descriptor }

    /// Standard output.
    public static let standardOutput = FileDescriptorOutput(descriptor: 1)
    /// Standard error.
    public static let standardError = FileDescriptorOutput(descriptor: 2)

    /// Writes all of `bytes`, retrying short writes and EINTR.
    public func write(_ bytes: [UInt8]) throws(OutputError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EPIPE { throw .brokenPipe }
                throw .failed(errno: code)
            }
            offset += written
        }
    }

    /// Writes a string as UTF-8.
    public func write(_ text: String) throws(OutputError) { try write(Array(text.utf8)) }

    /// Whether the descriptor is a terminal.
    public var isTerminal: Bool { isatty(descriptor) == 1 }
}

/// Whether coloured output is wanted on a stream: a terminal, and `NO_COLOR` unset or empty.
public func colorEnabled(for output: FileDescriptorOutput, environment: [String: String]) -> Bool {
    guard output.isTerminal else { return false }
    if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
    if environment["TERM"] == "dumb" { return false }
    return true
}
