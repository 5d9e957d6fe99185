import OsirisCore

/// Opens an all-or-nothing output file for a file writer; `createDirectories` makes the target's
/// folder first, as the writers' `create_dirs` asks.
func openAtomicOutput(path: String, createDirectories: Bool) throws(StepError) -> AtomicOutputFile {
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
    do {
        return try AtomicOutputFile(path: path)
    } catch {
        throw StepError(.run, "cannot create a file in '\(folder)': \(error.reason)")
    }
}
