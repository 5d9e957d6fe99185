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
///
/// The writer holds an exclusive `flock` on its temporary file until it commits, so a process killed
/// with SIGKILL (whose file cannot be removed by the process itself) leaves a file nobody locks:
/// the next write to the same target removes such files. The file is created as
/// `.NAME.osiris-XXXXXX.new`, locked, then renamed, so no unlocked file ever has the name the
/// clean-up looks for.
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
        // open(2) with mode 0666 lets the kernel apply the umask, so the file gets the usual
        // permissions without reading the process-wide umask (umask(0) + umask(mask) would race
        // with every other thread creating a file in between). mkstemp would create it 0600.
        Self.removeAbandonedFiles(folder: folder, name: name)
        var attempts = 0
        while true {
            let candidate = "\(folder)/.\(name).osiris-\(Self.randomSuffix())"
            let descriptor = open(candidate + ".new", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if descriptor >= 0 {
                // A fresh file: nobody else can hold its lock. The rename keeps the inode and the lock.
                while flock(descriptor, LOCK_EX) != 0, errno == EINTR {}
                if access(candidate, F_OK) == 0 || rename(candidate + ".new", candidate) != 0 {
                    close(descriptor)
                    unlink(candidate + ".new")
                    attempts += 1
                    if attempts < 100 { continue }
                    throw OutputFileError(path: path, reason: "cannot name a temporary file")
                }
                self.descriptor = descriptor
                temporaryPath = candidate
                return
            }
            let code = errno
            attempts += 1
            if code == EINTR || (code == EEXIST && attempts < 100) { continue }
            throw OutputFileError(path: path, reason: systemMessage(code))
        }
    }

    /// The temporary files `.NAME.osiris-XXXXXX` of earlier writers of `name` that died without
    /// removing them (SIGKILL, a power cut): a file whose lock can be taken belongs to no live writer.
    /// Files another process is writing stay, since it holds their lock.
    static func removeAbandonedFiles(folder: String, name: String) {
        let prefix = ".\(name).osiris-"
        guard let directory = opendir(folder) else { return }
        var abandoned: [String] = []
        while let entry = readdir(directory) {
            let entryName = entryName(entry)
            guard entryName.hasPrefix(prefix), entryName.utf8.count == prefix.utf8.count + 6 else { continue }
            abandoned.append(folder + "/" + entryName)
        }
        closedir(directory)
        for path in abandoned {
            let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
            guard descriptor >= 0 else { continue }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { unlink(path) }
            close(descriptor)
        }
    }

    /// Six random letters and digits, as mkstemp would choose.
    private static func randomSuffix() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var generator = SystemRandomNumberGenerator()
        return String(decoding: (0..<6).map { _ in alphabet.randomElement(using: &generator)! }, as: UTF8.self)
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
        committed = true
        // Renamed while still locked: once the lock goes, another writer's clean-up may remove the file.
        let renamed = rename(temporaryPath, path) == 0
        let reason = renamed ? "" : systemMessage(errno)
        if !renamed { unlink(temporaryPath) }
        close(descriptor)
        if !renamed { throw OutputFileError(path: path, reason: reason) }
    }
}
