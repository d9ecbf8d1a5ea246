import Foundation
import Testing

@Suite(.serialized) struct OperatorGuideTests {
    /// The `sh` blocks of a Markdown page, in order.
    static func shellBlocks(of page: String) -> [String] {
        var blocks: [String] = []
        var current: [String]?
        for line in page.components(separatedBy: "\n") {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```sh" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test func everyCommandOfTheOnboardingGuideWorks() async throws {
        let controller = try await ControllerProcess()
        let page = try String(contentsOf: ControllerProcess.root.appendingPathComponent("docs/onboarding.md"), encoding: .utf8)
        let blocks = Self.shellBlocks(of: page)
        #expect(blocks.count >= 8)
        let workspace = controller.dataDirectory + "-guide"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        let script = "set -euo pipefail\ncd '\(workspace)'\n" + blocks.joined(separator: "\n")
        let binaryDirectory = URL(fileURLWithPath: ControllerProcess.binary).deletingLastPathComponent().path
        let result = try run("bash", ["-c", script], environment: [
            "METALPLANE_SERVER": controller.baseURL, "ADMIN_PASSWORD": controller.password,
            "METALPLANE_CREDENTIALS": workspace + "/admin.json",
            "PATH": binaryDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
        ])
        #expect(result.status == 0, "\(result.output.suffix(3000))")
        #expect(result.output.contains("project ml-prod asks 8 nvidia/H100; org research limit 16, 12 already assigned to 2 other projects"))
        #expect(result.output.contains("tenant_not_empty"))
        #expect(result.output.contains("alice (user"))
        controller.kill(SIGTERM)
    }
}
