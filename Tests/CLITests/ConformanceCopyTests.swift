import Foundation
import Testing

/// The suite runs the repository's copy of the conformance cases (`Tests/Conformance`); where the upstream
/// folder `../shared/conformance` exists, the copy must be byte for byte the same, file for file.
@Suite struct ConformanceCopyTests {
    /// Every regular file below `root`, as paths relative to it, sorted.
    static func files(below root: URL) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var result: [String] = []
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path, isDirectory: &isDirectory),
               !isDirectory.boolValue {
                result.append(relative)
            }
        }
        return result.sorted()
    }

    @Test func theCopyIsComplete() throws {
        let copy = try Self.files(below: ToolHarness.repositoryRoot.appendingPathComponent("Tests/Conformance"))
        #expect(copy.contains("README.md"))
        #expect(copy.contains("osiris_connections.yaml"))
        #expect(copy.contains("snapshot.json"))
        #expect(copy.filter { $0.hasPrefix("lint/") }.count >= 20)
        #expect(copy.filter { $0.hasPrefix("anchor-examples/") }.count >= 5)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ToolHarness.sharedConformanceDirectory.path),
                   "../shared/conformance is not beside this clone"))
    func theCopyMatchesUpstream() throws {
        let upstream = ToolHarness.sharedConformanceDirectory
        let copy = ToolHarness.repositoryRoot.appendingPathComponent("Tests/Conformance")
        let upstreamFiles = try Self.files(below: upstream)
        let copyFiles = try Self.files(below: copy)
        #expect(copyFiles == upstreamFiles,
                "Tests/Conformance differs from ../shared/conformance in its files: refresh it with cp -r ../shared/conformance/. Tests/Conformance/")
        for file in upstreamFiles where copyFiles.contains(file) {
            let expected = try Data(contentsOf: upstream.appendingPathComponent(file))
            let actual = try Data(contentsOf: copy.appendingPathComponent(file))
            #expect(actual == expected, "Tests/Conformance/\(file) differs from ../shared/conformance/\(file)")
        }
    }
}
