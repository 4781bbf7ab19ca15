-- StillOnTime schema, version 1. Every table but users belongs to a user and goes with it
-- (ON DELETE CASCADE), so deleting an account removes everything of theirs in one statement.

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL UNIQUE,
  name text NOT NULL DEFAULT '',
  google_id text UNIQUE,
  role text NOT NULL DEFAULT 'crew' CHECK (role IN ('crew', 'admin')),
  calendar_token_hash text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);

CREATE TABLE user_configs (
  user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  home_address text,
  office_address text,
  buffer_car_change integer NOT NULL DEFAULT 15 CHECK (buffer_car_change BETWEEN 0 AND 240),
  buffer_parking integer NOT NULL DEFAULT 10 CHECK (buffer_parking BETWEEN 0 AND 240),
  buffer_entry integer NOT NULL DEFAULT 10 CHECK (buffer_entry BETWEEN 0 AND 240),
  buffer_traffic integer NOT NULL DEFAULT 20 CHECK (buffer_traffic BETWEEN 0 AND 240),
  buffer_morning_routine integer NOT NULL DEFAULT 45 CHECK (buffer_morning_routine BETWEEN 0 AND 240),
  notify_email boolean NOT NULL DEFAULT true,
  notify_sms boolean NOT NULL DEFAULT false,
  notify_push boolean NOT NULL DEFAULT false,
  sms_number text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE schedules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  shooting_date date NOT NULL,
  call_time time NOT NULL,
  title text NOT NULL DEFAULT '',
  location text NOT NULL,
  base_location text NOT NULL DEFAULT '',
  scene_type text NOT NULL DEFAULT '',
  scenes jsonb NOT NULL DEFAULT '[]',
  equipment jsonb NOT NULL DEFAULT '[]',
  contacts jsonb NOT NULL DEFAULT '[]',
  safety_notes jsonb NOT NULL DEFAULT '[]',
  notes text NOT NULL DEFAULT '',
  source text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'text', 'pdf')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedules_user_date_idx ON schedules (user_id, shooting_date, call_time);

-- One row per imported document: the content hash makes a second import of the same call sheet
-- return the first schedule instead of creating another.
CREATE TABLE processed_documents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  schedule_id uuid NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  content_hash text NOT NULL,
  source text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, content_hash)
);

CREATE TABLE route_plans (
  schedule_id uuid PRIMARY KEY REFERENCES schedules(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  wake_up_time timestamp NOT NULL,
  departure_time timestamp NOT NULL,
  arrival_time timestamp NOT NULL,
  total_travel_minutes integer NOT NULL,
  segments jsonb NOT NULL,
  buffers jsonb NOT NULL,
  calculated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE weather_data (
  schedule_id uuid PRIMARY KEY REFERENCES schedules(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  forecast_date date NOT NULL,
  temperature double precision,
  description text,
  wind_speed double precision,
  precipitation double precision,
  humidity integer,
  warnings jsonb NOT NULL DEFAULT '[]',
  data jsonb NOT NULL,
  fetched_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE summaries (
  schedule_id uuid PRIMARY KEY REFERENCES schedules(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  language text NOT NULL DEFAULT 'en',
  text text NOT NULL,
  html text NOT NULL,
  timeline jsonb NOT NULL,
  warnings jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now()
);
