import OsirisCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A file written all or nothing: data goes to a temporary file in the target's folder, renamed
/// over the target only on `commit`, so a failed or interrupted run leaves the old file intact.
final class AtomicFileOutput {
    let path: String
    let temporaryPath: String
    let descriptor: Int32
    private var committed = false

    /// Creates the temporary file; `createDirectories` makes the target's folder first.
    init(path: String, createDirectories: Bool) throws(StepError) {
        self.path = path
        let folder = FileSystem.directory(of: path)
        if createDirectories {
            do {
                try FileSystem.createDirectories(folder)
            } catch {
                throw StepError(.run, "cannot create folder '\(folder)': \(error.reason)")
            }
        } else if !DirectoryWalker.isDirectory(folder) {
            throw StepError(.run, "folder '\(folder)' does not exist (set create_dirs: true to create it)")
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        var template = Array("\(folder)/.\(name).osiris-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw StepError(.run, "cannot create a file in '\(folder)': \(systemMessage(errno))") }
        self.descriptor = descriptor
        temporaryPath = String(cString: template)
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

    /// Flushes to disk and renames the temporary file over the target.
    func commit() throws(StepError) {
        if fsync(descriptor) != 0 { throw StepError(.run, "cannot write '\(path)': \(systemMessage(errno))") }
        close(descriptor)
        committed = true
        if rename(temporaryPath, path) != 0 {
            let reason = systemMessage(errno)
            unlink(temporaryPath)
            throw StepError(.run, "cannot write '\(path)': \(reason)")
        }
    }
}
