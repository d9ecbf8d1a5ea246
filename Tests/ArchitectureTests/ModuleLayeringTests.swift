import Foundation
import Testing

/// The module map in docs/architecture.md is what the code imports and what Package.swift declares.
@Suite struct ModuleLayeringTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each of our modules → its row in the table (0 is the top row).
    static func layers() throws -> [String: Int] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        var layers: [String: Int] = [:]
        var row = 0
        var inTable = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("| module |") { inTable = true; continue }
            guard inTable else { continue }
            guard line.hasPrefix("|") else { if !layers.isEmpty { break } else { continue } }
            if line.hasPrefix("|---") { continue }
            let firstCell = line.split(separator: "|", omittingEmptySubsequences: true).first ?? ""
            for name in firstCell.split(separator: "`").enumerated().filter({ $0.offset % 2 == 1 }).map({ String($0.element) }) {
                layers[name] = row
            }
            row += 1
        }
        return layers
    }

    /// Our modules (folders of Sources) → the modules of ours each imports.
    static func imports() throws -> [String: Set<String>] {
        let sources = root.appendingPathComponent("Sources")
        let modules = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { !$0.hasPrefix(".") }
        var result: [String: Set<String>] = [:]
        for module in modules {
            var imported = Set<String>()
            let folder = sources.appendingPathComponent(module)
            let files = FileManager.default.enumerator(atPath: folder.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
            for file in files {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let words = line.split(separator: " ").map(String.init)
                    guard let index = words.firstIndex(of: "import"), index + 1 < words.count,
                          words[..<index].allSatisfy({ $0.hasPrefix("@") || ["public", "package", "internal"].contains($0) }) else { continue }
                    let name = words[index + 1]
                    if modules.contains(name), name != module { imported.insert(name) }
                }
            }
            result[module] = imported
        }
        return result
    }

    /// Target name → the target names (ours, not products) Package.swift lists as its dependencies.
    static func declaredEdges(ours: Set<String>) throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var result: [String: Set<String>] = [:]
        let pattern = try NSRegularExpression(pattern: #"\.(?:target|executableTarget)\(name: "(\w+)",\s*dependencies: \[(.*?)\]\s*[,)]"#,
                                              options: [.dotMatchesLineSeparators])
        let products = try NSRegularExpression(pattern: #"\.product\([^)]*\)"#)
        let quoted = try NSRegularExpression(pattern: #""(\w+)""#)
        let range = NSRange(text.startIndex..., in: text)
        for match in pattern.matches(in: text, range: range) {
            let name = String(text[Range(match.range(at: 1), in: text)!])
            let list = String(text[Range(match.range(at: 2), in: text)!])
            let bare = products.stringByReplacingMatches(in: list, range: NSRange(list.startIndex..., in: list), withTemplate: "")
            let names = quoted.matches(in: bare, range: NSRange(bare.startIndex..., in: bare)).map { String(bare[Range($0.range(at: 1), in: bare)!]) }
            result[name] = Set(names).intersection(ours)
        }
        return result
    }

    @Test func everyModuleIsInTheMap() throws {
        let layers = try Self.layers()
        let modules = try Self.imports().keys
        #expect(!layers.isEmpty)
        for module in modules { #expect(layers[module] != nil, "Sources/\(module) is not in docs/architecture.md's module table") }
    }

    @Test func importsPointDownTheMapOnly() throws {
        let layers = try Self.layers()
        var checked = 0
        for (module, imported) in try Self.imports() {
            guard let own = layers[module] else { continue }
            for name in imported {
                checked += 1
                guard let theirs = layers[name] else { Issue.record("\(module) imports \(name), which is not in the map"); continue }
                #expect(theirs > own, "\(module) (row \(own)) imports \(name) (row \(theirs)): imports must point down docs/architecture.md's table")
            }
        }
        #expect(checked > 20)
    }

    @Test func packageDeclaresExactlyTheEdgesTheCodeUses() throws {
        let imports = try Self.imports()
        let declared = try Self.declaredEdges(ours: Set(imports.keys))
        #expect(declared.count > 10, "Package.swift's targets were not found")
        for (module, used) in imports {
            // System-library shims and leaf targets declare no dependencies.
            guard let edges = declared[module] else {
                #expect(used.isEmpty, "\(module) imports \(used.sorted()) but Package.swift declares no dependencies for it")
                continue
            }
            let unused = edges.subtracting(used)
            let undeclared = used.subtracting(edges)
            #expect(unused.isEmpty, "Package.swift declares \(module) → \(unused.sorted()) but no file of \(module) imports them")
            #expect(undeclared.isEmpty, "\(module) imports \(undeclared.sorted()) without declaring them in Package.swift")
        }
    }
}
