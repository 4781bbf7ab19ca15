#!/usr/bin/python3
"""Why: the issue asks for iCalendar output "that a parser accepts"; this runs an independent
parser (Debian's python3-icalendar) over the feed the server produced and checks the events and
alarms, so our hand-written RFC 5545 is judged by someone else's reading of it.

usage: check_ical.py FILE EXPECTED_EVENTS EXPECTED_ALARMS_PER_EVENT
"""
import sys

from icalendar import Calendar


def main():
    path, events_expected, alarms_expected = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(path, "rb") as handle:
        raw = handle.read()
    for line in raw.split(b"\r\n"):
        if len(line) > 75:
            print("line longer than 75 octets:", line[:40])
            return 1
    calendar = Calendar.from_ical(raw)
    events = [c for c in calendar.walk("VEVENT")]
    if len(events) != events_expected:
        print("expected", events_expected, "events, found", len(events))
        return 1
    for event in events:
        for key in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            if key not in event:
                print("event lacks", key)
                return 1
        event.decoded("DTSTART")
        alarms = [a for a in event.walk("VALARM")]
        if len(alarms) != alarms_expected:
            print("expected", alarms_expected, "alarms, found", len(alarms))
            return 1
        for alarm in alarms:
            trigger = alarm.decoded("TRIGGER")
            if trigger is None or alarm.get("ACTION") != "DISPLAY":
                print("bad alarm", alarm)
                return 1
    print("ok:", len(events), "events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
