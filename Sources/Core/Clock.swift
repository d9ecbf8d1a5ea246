import Foundation

/// The wall clock, injected so that expiry, throttling and schedules can be tested.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Date

    /// A clock reading `read` each time.
    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }

    /// The real system clock.
    public static let system = WallClock { Date() }

    /// The current time.
    public func now() -> Date { read() }

    /// The current time in whole milliseconds since 1970, the unit the store keeps.
    public func nowMillis() -> Int64 { Int64((read().timeIntervalSince1970 * 1000).rounded(.down)) }
}

extension Date {
    /// Milliseconds since 1970.
    public var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    /// A date from milliseconds since 1970.
    public init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
}
