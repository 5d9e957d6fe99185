import Foundation
import OML
import Testing

/// `man/osiris-components.7` is written by hand from the registry; this keeps the two in step.
@Suite struct ComponentsManPageTests {
    static let page: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("man/osiris-components.7"), encoding: .utf8)) ?? ""
    }()

    @Test func thePageExists() {
        #expect(!Self.page.isEmpty, "man/osiris-components.7 is missing")
    }

    @Test(arguments: ComponentRegistry.builtin.names)
    func everyComponentAndConfigKeyIsDocumented(_ name: String) throws {
        let spec = try #require(ComponentRegistry.builtin.spec(named: name))
        // The component's own section: from its `.Ss` header to the next header.
        let header = ".Ss \(name)\n"
        let start = try #require(Self.page.range(of: header), "\(name) has no section in osiris-components(7)")
        let rest = Self.page[start.upperBound...]
        let end = rest.range(of: "\n.S")?.lowerBound ?? rest.endIndex
        let section = String(rest[..<end])
        for key in spec.configSchema.propertyOrder {
            #expect(section.contains(".It Ic \(key)\n"), "config key '\(key)' is not in the section of \(name)")
        }
    }
}
