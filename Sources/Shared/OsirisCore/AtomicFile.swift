#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An output file that could not be written (exit status 73, cannot create).
public struct OutputFileError: OsirisError, Equatable {
    /// The path that was to be written.
    public var path: String
    /// The system's reason.
    public var reason: String

    /// Creates an output file error.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var exitStatus: ExitStatus { .cannotCreate }
    public var description: String { "cannot write '\(path)': \(reason)" }
}

/// Writes files the way build tools need: all or nothing, and not at all when nothing changed.
public enum AtomicFile {
    /// Whether the file at `path` holds exactly `bytes`.
    public static func hasContents(_ bytes: [UInt8], at path: String) -> Bool {
        guard let existing = try? InputFile.read(path) else { return false }
        return existing == bytes
    }

    /// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so readers
    /// see the old file or the new one, never a part. When the file already holds exactly `bytes`
    /// it is left untouched, mtime included, and the result is false.
    @discardableResult
    public static func write(_ bytes: [UInt8], to path: String) throws(OutputFileError) -> Bool {
        if hasContents(bytes, at: path) { return false }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(folder.isEmpty ? "/" : folder)/.\(name).tmp-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw OutputFileError(path: path, reason: systemMessage(errno)) }
        let temporary = String(cString: template)
        var failure: Int32 = 0
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            offset += written
        }
        if failure == 0, fsync(descriptor) != 0 { failure = errno }
        // Regular files get the usual permissions (mkstemp creates them 0600).
        if failure == 0 {
            let mask = umask(0)
            umask(mask)
            fchmod(descriptor, 0o666 & ~mask)
        }
        close(descriptor)
        if failure == 0, rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw OutputFileError(path: path, reason: systemMessage(failure))
        }
        return true
    }
}
