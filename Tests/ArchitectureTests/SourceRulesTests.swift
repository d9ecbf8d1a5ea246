import Foundation
import Testing

/// Production code starts no task it does not own: long-running work is a service of the
/// ServiceGroup, and work that outlives a call runs in an `OwnedWork` or a task group, so shutdown
/// cancels and awaits all of it. `Task { … }` and `Task.detached` are therefore absent from
/// Sources (the benchmarks, a measuring tool, are outside this rule).
@Suite struct OwnedTasksTests {
    static let unowned = try! NSRegularExpression(pattern: #"\bTask(\.detached)?\s*(\([^)]*\))?\s*\{"#)

    @Test func productionCodeStartsNoUnownedTask() throws {
        let sources = ModuleLayeringTests.root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && !$0.hasPrefix("Benchmarks/") } ?? []
        #expect(files.count > 100)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                if Self.unowned.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil {
                    Issue.record("Sources/\(file):\(number + 1) starts an unowned task: \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
    }

    @Test func theRuleSeesWhatItMeans() {
        func matches(_ code: String) -> Bool { Self.unowned.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil }
        #expect(matches("let t = Task { await x() }") && matches("Task.detached {") && matches("Task(priority: .high) {"))
        #expect(!matches("group.addTask { await x() }") && !matches("try await Task.sleep(for: .seconds(1))"))
    }
}

/// States stored in SQL are written from the enums that define them (`'\(NodeState.available.rawValue)'`),
/// never as string literals beside them, so renaming a case cannot leave a query behind.
@Suite struct SQLStateLiteralsTests {
    static let literal = try! NSRegularExpression(pattern: #"\b(state|phase|desired|status|outcome|kind|principal_kind) (=|<>|!=|IN) \(?'[a-z]"#)

    @Test func noQueryComparesAStateWithALiteral() throws {
        let sources = ModuleLayeringTests.root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && !$0.hasPrefix("Benchmarks/") } ?? []
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = String(line)
                if Self.literal.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil {
                    Issue.record("Sources/\(file):\(number + 1) writes a state as a literal: \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
    }
}
