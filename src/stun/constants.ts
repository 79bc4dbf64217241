/** Wire constants of STUN (RFC 8489, 5389) and TURN (RFC 8656, 5766, 6062, 6156). */

export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_LENGTH = 20;
export const TRANSACTION_ID_LENGTH = 12;
/** Bounded decoding: nothing we serve needs more, and a UDP datagram cannot carry more. */
export const MAX_MESSAGE_LENGTH = 65535;

export const enum StunClass {
  Request = 0,
  Indication = 1,
  SuccessResponse = 2,
  ErrorResponse = 3,
}

export const Method = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
  Connect: 0x00a,
  ConnectionBind: 0x00b,
  ConnectionAttempt: 0x00c,
} as const;

export const AttributeType = {
  MappedAddress: 0x0001,
  ChangeRequest: 0x0003,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  ChannelNumber: 0x000c,
  Lifetime: 0x000d,
  Bandwidth: 0x0010,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  EvenPort: 0x0018,
  RequestedTransport: 0x0019,
  DontFragment: 0x001a,
  AccessToken: 0x001b,
  MessageIntegritySha256: 0x001c,
  PasswordAlgorithm: 0x001d,
  Userhash: 0x001e,
  XorMappedAddress: 0x0020,
  ReservationToken: 0x0022,
  Priority: 0x0024,
  UseCandidate: 0x0025,
  /** RFC 5780 §7.6, §7.5: Binding only. */
  Padding: 0x0026,
  ResponsePort: 0x0027,
  ConnectionId: 0x002a,
  AdditionalAddressFamily: 0x8000,
  AddressErrorCode: 0x8001,
  PasswordAlgorithms: 0x8002,
  AlternateDomain: 0x8003,
  Icmp: 0x8004,
  Software: 0x8022,
  AlternateServer: 0x8023,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
  ResponseOrigin: 0x802b,
  OtherAddress: 0x802c,
  ThirdPartyAuthorization: 0x802e,
  Origin: 0x802f,
  /** RFC 8016 (coturn's `mobility`). */
  MobilityTicket: 0x8030,
} as const;

/**
 * Attributes this server understands; a comprehension-required one not listed gets 420.
 * ACCESS-TOKEN is understood only with `oauth` (the engine lets it through then), as RFC 7635 §6.2 asks.
 */
export const KNOWN_ATTRIBUTES: ReadonlySet<number> = new Set(Object.values(AttributeType).filter((type) => type !== AttributeType.AccessToken));

export const isComprehensionRequired = (type: number): boolean => type < 0x8000;

export const AddressFamily = { IPv4: 0x01, IPv6: 0x02 } as const;
export type AddressFamilyCode = (typeof AddressFamily)[keyof typeof AddressFamily];

export const TransportProtocol = { UDP: 17, TCP: 6 } as const;

export const ErrorCode = {
  TryAlternate: 300,
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  UnknownAttribute: 420,
  AllocationMismatch: 437,
  StaleNonce: 438,
  AddressFamilyNotSupported: 440,
  WrongCredentials: 441,
  UnsupportedTransportProtocol: 442,
  PeerAddressFamilyMismatch: 443,
  ConnectionAlreadyExists: 446,
  ConnectionTimeoutOrFailure: 447,
  AllocationQuotaReached: 486,
  RoleConflict: 487,
  ServerError: 500,
  InsufficientCapacity: 508,
} as const;

/** Reason phrases as RFC 8489 §14.8 and RFC 8656 §18 spell them. */
export const ERROR_REASONS: Readonly<Record<number, string>> = {
  300: 'Try Alternate',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  420: 'Unknown Attribute',
  437: 'Allocation Mismatch',
  438: 'Stale Nonce',
  440: 'Address Family not Supported',
  441: 'Wrong Credentials',
  442: 'Unsupported Transport Protocol',
  443: 'Peer Address Family Mismatch',
  446: 'Connection Already Exists',
  447: 'Connection Timeout or Failure',
  486: 'Allocation Quota Reached',
  487: 'Role Conflict',
  500: 'Server Error',
  508: 'Insufficient Capacity',
};

/** Channel numbers: RFC 5766 allowed 0x4000-0x7FFF, RFC 8656 narrows it to 0x4000-0x4FFF. */
export const CHANNEL_MIN = 0x4000;
export const CHANNEL_MAX_RFC5766 = 0x7fff;
export const CHANNEL_MAX_RFC8656 = 0x4fff;
