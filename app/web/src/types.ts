// Shapes of the server's JSON (docs/server.md). Local date-times (wake-up, departure) are
// floating wall-clock times at the location, "YYYY-MM-DDTHH:MM:SS"; instants are RFC 3339 UTC.
export interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  calendarFeedEnabled?: boolean;
}

export interface Session {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  user?: User;
}

export interface Buffers {
  carChange: number;
  parking: number;
  entry: number;
  traffic: number;
  morningRoutine: number;
}

export interface Segment {
  from: string;
  to: string;
  minutes: number;
  distanceKm?: number;
  source?: string;
}

export interface RoutePlan {
  wakeUpTime: string;
  departureTime: string;
  arrivalTime: string;
  totalTravelMinutes: number;
  segments: Segment[];
  buffers: Buffers;
  calculatedAt?: string;
}

export interface Weather {
  forecastDate: string;
  temperature: number;
  maxTemperature: number;
  minTemperature: number;
  description: string;
  windSpeed: number;
  precipitation: number;
  precipitationProbability: number;
  humidity: number;
  warnings: string[];
}

export interface Schedule {
  id: string;
  shootingDate: string;
  callTime: string;
  title: string;
  location: string;
  baseLocation: string;
  sceneType: string;
  scenes: string[];
  equipment: string[];
  safetyNotes: string[];
  notes: string;
  source: string;
  wakeUpTime?: string | null;
  departureTime?: string | null;
  weatherWarnings?: string[] | null;
  routePlan?: RoutePlan | null;
  weather?: Weather | null;
}

export interface UserConfig {
  homeAddress: string | null;
  officeAddress: string | null;
  buffers: Buffers;
  notifications: { email: boolean; sms: boolean; push: boolean };
  smsNumber: string | null;
}

export interface Features {
  oauth: boolean;
  weather: boolean;
  maps: boolean;
}
