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
        let file = try AtomicOutputFile(path: path)
        try file.write(bytes)
        try file.commit()
        return true
    }
}

/// A file written all or nothing: data goes to a temporary file (`.NAME.osiris-XXXXXX`) in the
/// target's folder and is renamed over the target only on `commit`. Released without a commit, the
/// temporary file is removed, so a failed or interrupted write leaves the old file as it was.
public final class AtomicOutputFile {
    /// The target.
    public let path: String
    /// The temporary file being written.
    public let temporaryPath: String
    /// The temporary file's descriptor, for writers that write to it directly.
    public let descriptor: Int32
    private var committed = false

    /// Creates the temporary file next to `path`; the folder must exist.
    public init(path: String) throws(OutputFileError) {
        self.path = path
        let folder = FileSystem.directory(of: path)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        var template = Array("\(folder)/.\(name).osiris-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw OutputFileError(path: path, reason: systemMessage(errno)) }
        self.descriptor = descriptor
        temporaryPath = String(cString: template)
        // Regular files get the usual permissions (mkstemp creates them 0600).
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
    }

    deinit {
        if !committed {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    /// Appends `bytes`, retrying short writes and EINTR.
    public func write(_ bytes: [UInt8]) throws(OutputFileError) {
        do {
            try FileDescriptorOutput(descriptor: descriptor).write(bytes)
        } catch {
            let code: Int32
            switch error {
            case .brokenPipe: code = EPIPE
            case .failed(let errno): code = errno
            }
            throw OutputFileError(path: path, reason: systemMessage(code))
        }
    }

    /// Flushes to disk and renames the temporary file over the target.
    public func commit() throws(OutputFileError) {
        if fsync(descriptor) != 0 { throw OutputFileError(path: path, reason: systemMessage(errno)) }
        close(descriptor)
        committed = true
        if rename(temporaryPath, path) != 0 {
            let reason = systemMessage(errno)
            unlink(temporaryPath)
            throw OutputFileError(path: path, reason: reason)
        }
    }
}
