import OMLLint
import Testing

@Suite struct RuleCatalogTests {
    @Test func codesAreUniqueSortedAndDocumented() {
        let codes = Linter.ruleDescriptors.map(\.code)
        #expect(Set(codes).count == codes.count)
        #expect(codes == codes.sorted())
        for rule in Linter.ruleDescriptors {
            #expect(rule.documentation.count > 80, "\(rule.code) needs real documentation")
            #expect(!rule.summary.isEmpty)
            #expect(rule.name.first?.isUppercase == true)
        }
    }

    @Test func everyCodeOfTheDesignIsImplemented() {
        let design = ["OML001", "OML002", "OML003", "OML010", "OML011", "OML012", "OML013", "OML014", "OML015", "OML020",
                      "OML100", "OML101", "OML102", "OML103", "OML104", "OML105", "OML106", "OML107", "OML108", "OML109",
                      "OML110", "OML111", "OML200", "OML201", "OML202", "OML203", "OML204", "OML205", "OML300", "OML301",
                      "OML302", "OML303", "OML304", "OML305", "OML306", "OML307", "OML308", "OML400", "OML401"]
        let implemented = Set(Linter.ruleDescriptors.map(\.code))
        for code in design { #expect(implemented.contains(code), "\(code) is not implemented") }
    }

    @Test func lookupIsCaseInsensitive() {
        #expect(Linter.rule(code: "oml104")?.name == "UnknownStepDependency")
        #expect(Linter.rule(code: "OML999") == nil)
    }
}
