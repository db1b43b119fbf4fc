"""Fixed vocabularies the call generator draws from.

Everything here is plain constant data. Values are chosen to exercise a
consumer's parsing: non-ASCII names, names with commas and double quotes,
ids with leading zeros. No value used inside a ``|``-joined CSV list contains
``|``, and no word-cloud phrase contains a comma.
"""

from __future__ import annotations

# Agents as tuples of agentId, email, name, userId and channel.
AGENTS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "0436828",
        "joe@voicegain.ai",
        "Joe Shmoe",
        "4ed10e44-cdbd-4506-a2a0-f2eb6bf50933",
        "right",
    ),
    (
        "0012345",
        "jose.nunez@example.com",
        "José Núñez",
        "0b7e5a3c-3f43-4d57-9a3b-6d2f4c1a8e01",
        "right",
    ),
    (
        "0987001",
        "zoe.obrien@example.com",
        "Zoë O'Brien",
        "6a1c9d2e-7b45-4c1f-8e2a-9f3b5d7c1e02",
        "right",
    ),
    (
        "0550123",
        "wang.fang@example.cn",
        "王芳",
        "9c2f8b1a-4d6e-4a3b-b5c7-1e9d3f5a7b03",
        "right",
    ),
    (
        "0000042",
        "john.smith@example.com",
        "Smith, John",
        "2d4f6a8c-1b3d-4e5f-a7b9-c1d3e5f7a904",
        "left",
    ),
    (
        "0777777",
        "bob.jones@example.com",
        'Robert "Bob" Jones',
        "7e9a1c3d-5f7b-4a9c-8d1e-3f5a7b9c1d05",
        "right",
    ),
    (
        "1203344",
        "amelie.dubois@example.fr",
        "Amélie Dubois-Laurent",
        "3b5d7f9a-2c4e-4b6d-9f1a-5c7e9a1b3d06",
        "right",
    ),
    (
        "0099881",
        "soeren.mueller@example.de",
        "Sören Müller",
        "8f1b3d5e-7a9c-4e1b-a3d5-7f9b1c3e5a07",
        "right",
    ),
    (
        "0302010",
        "priya.raman@example.in",
        "Priya Raman",
        "5a7c9e1b-3d5f-4c7a-b9d1-2e4f6a8c0b08",
        "right",
    ),
    (
        "0640064",
        "olu.adeyemi@example.ng",
        "Olúwaseun Adéyemí",
        "1c3e5a7b-9d1f-4a3c-8e5b-7d9f1a3c5e09",
        "right",
    ),
)

# Queues as tuples of queueId and name.
QUEUES: tuple[tuple[str, str], ...] = (
    ("873490", "Q-English-Member-Services"),
    ("0873491", "Q-Spanish-Member-Services"),
    ("873500", "Q-Claims, Billing & Payments"),
    ("873512", 'Q-"VIP" Callback'),
    ("873520", "Q-Pharmacy"),
)

TEAMS: tuple[str, ...] = ("Team Alpha", "Team Bravo", "Équipe Nord")

TAGS: tuple[str, ...] = (
    "C_Member",
    "V_Verified",
    "R_Coverage",
    "NEW_TAG",
    "C_Provider",
    "R_Billing",
    "V_NotVerified",
    "R_Claims",
    "E_Escalation",
)

KEYWORDS: tuple[str, ...] = (
    "deductible",
    "claim",
    "copay",
    "prior authorization",
    "refund",
    "cancel",
    "supervisor",
    "pharmacy",
    "año",
    "out-of-network",
)

TOPICS: tuple[str, ...] = (
    "Check Claim Status",
    "Update Address",
    "Billing Question",
    "Coverage Inquiry",
    "Cancel Policy",
    "Pharmacy Refill",
    "Complaint",
)

WORDS: tuple[str, ...] = (
    "claim",
    "coverage",
    "thank",
    "member",
    "pharmacy",
    "deductible",
    "appointment",
    "billing",
    "card",
    "address",
    "doctor",
    "payment",
    "refund",
    "plan",
    "number",
    "médico",
    "gracias",
    "prescription",
    "balance",
    "hold",
)

MARKER_TYPES: tuple[str, ...] = (
    "CC_QUEUE_ENTER",
    "CC_ANSWER",
    "CC_AGENT_ANSWER",
    "HOLD",
    "UNHOLD",
    "TRANSFER",
    "CC_HANGUP",
)

MARKER_NOTES: tuple[str, ...] = (
    "Caller placed on hold, checking claim",
    'Transfer to "Tier 2"',
    "Réclamation escalated to supervisor",
    "Member asked for a callback, tomorrow 9am",
)

DTMF_KEYS: str = "0123456789*#"

CALLER_NAMES: tuple[str, ...] = (
    "Maria",
    "Mr. Chen",
    "Ms. O'Neil",
    "François",
    "Dmitri",
    "Aiyana",
)

NOTE_REASONS: tuple[str, ...] = (
    "a denied claim for an MRI, dated 04/02",
    "the status of a refund of $45.10",
    "changing the mailing address, phone and e-mail",
    "a prescription refill at the pharmacy",
    "out-of-network coverage while travelling in México",
)

NOTE_QUOTES: tuple[str, ...] = (
    "I've been waiting three weeks, this is ridiculous",
    "Can you send that to me in writing?",
    "Gracias, that's all I needed",
    "Why was I charged twice?",
)

NOTE_OUTCOMES: tuple[str, ...] = (
    "Resolved on the call.",
    "Escalated to Tier 2; ticket #88213 opened.",
    "Follow-up required — member will call back.",
    "Unresolved, caller hung up.",
)

REVIEW_STATUSES: tuple[str, ...] = ("complete", "in_progress", "disputed")

REVIEW_NOTES: tuple[str, ...] = (
    "Good empathy; missed the HIPAA verification step.",
    'Agent said "I don\'t know" twice,\ncoach on knowledge base use.',
    "Excellent call — textbook resolution.",
)

WHO_HUNG_UP: tuple[str, ...] = ("caller", "agent", "system")

AUDIT_STATUSES: tuple[str, ...] = ("not_started", "in_progress", "complete")

TRANSFER_DEST_TYPES: tuple[str, ...] = ("Internal", "Agency")

INTERNAL_ENDPOINTS: tuple[str, ...] = (
    "14693333606",
    "18005550199",
    "442071838750",
)

# Transcript lines; {agent}, {caller} and {caller_last} are replaced by names.
AGENT_GREETING = (
    "thank you for calling member services this is {agent} how can I help you"
)
AGENT_CLOSING = (
    "is there anything else I can help you with today have a great day {caller}"
)
AGENT_LINES: tuple[str, ...] = (
    "can I have your member ID and date of birth please",
    "thank you {caller} I can see the claim here",
    "let me check that for you it will take a moment",
    "I'm placing you on a brief hold",
    "thanks for holding the claim was denied for missing prior authorization",
    "your deductible for this year is five hundred dollars",
    "I have updated the mailing address on file",
    "the refund of forty five dollars was issued on Monday",
    "I can transfer you to our Spanish line el equipo habla español",
    "you can also press one at any time to hear your balance",
)
CALLER_OPENER = "hi yes I'm calling about a claim for my son"
CALLER_LINES: tuple[str, ...] = (
    "it's {caller} {caller_last}",
    "sure it's four four seven nine one two",
    "I was charged twice for the same visit",
    "my daughter Zoë saw the doctor in March",
    "the pharmacy said the prescription is not covered",
    "my niño had an appointment at the clinic last week",
    "I paid über the phone last time and it went through",
    "okay thank you that's all I needed 🙂",
    "can you send that to me in writing",
    "I've been waiting three weeks this is ridiculous",
    "gracias muy amable",
    "François my husband is also on the plan",
)
CALLER_FIRST_NAMES: tuple[str, ...] = ("Maria", "François", "Dmitri", "Aiyana", "Wei")
CALLER_LAST_NAMES: tuple[str, ...] = ("Núñez", "Smith", "Dubois", "O'Neil", "Chen")

# Supervisors an agent transfers to (same shape as AGENTS).
SUPERVISORS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "9000001",
        "dana.lee@example.com",
        "Dana Lee",
        "c4e6a8b0-2d4f-4b6d-8f0a-2c4e6a8b0d10",
        "right",
    ),
    (
        "9000002",
        "marguerite.oconnor@example.ie",
        "Marguerite Ó Conchúir",
        "d5f7b9c1-3e5a-4c7e-9a1b-3d5f7b9c1e11",
        "right",
    ),
)

# Where a segment ends by transfer: queue extensions, agent lines, outside numbers.
TRANSFER_EXTENSIONS: tuple[str, ...] = ("4102", "4150", "4177", "5001")
EXTERNAL_TRANSFER_NUMBERS: tuple[str, ...] = ("+18005550142", "+14155550123")

SEGMENT_REVIEW_STATUSES: tuple[str, ...] = (
    "selected",
    "reviewed",
    "communicated",
    "viewed",
    "acknowledged",
)
CALLER_TYPES: tuple[str, ...] = ("Member", "Provider", "Broker")
VERIFICATION_STATUSES: tuple[str, ...] = (
    "not_attempted",
    "not_needed",
    "fully_verified",
    "partially_verified",
    "unverified",
)
FEEDBACK: tuple[str, ...] = ("thumbsUp", "thumbsDown")
REVIEWERS: tuple[str, ...] = (
    "7b1d3f5a-9c2e-4a6b-8d0f-1a3c5e7b9d21",
    "8c2e4a6b-0d3f-4b7c-9e1a-2b4d6f8a0e22",
)
SYSTEM_SEGMENT_NOTES: tuple[str, ...] = (
    "Caller waited in the queue; hold music played.",
    "Caller was offered a callback and declined.",
    "Post-call survey: caller pressed 5 for very satisfied.",
    "Caller left a voicemail after hours.",
)

# Full-model extras (``full_model=True``).
VOICEBOT_NAMES: tuple[str, ...] = ("Casey", "Nova")
LINES_OF_BUSINESS: tuple[str, ...] = ("ACME Claims", "ACME Pharmacy", "ACME Benefits")
VOICEMAIL_TRANSCRIPTS: tuple[str, ...] = (
    (
        "Hi, this is Maria Núñez, member ID four four seven nine, please call me "
        "back about my claim. Thanks."
    ),
    (
        "Hello, it's Dmitri, I need a refill authorised before Friday. My number "
        "is on file."
    ),
    "Bonjour, c'est François, j'appelle pour ma carte — rappelez-moi s'il vous plaît.",
)
MODIFIABLE_NOTES: tuple[str, ...] = (
    "Callback promised for Monday 9am.",
    "Member asked that we use e-mail, not phone.",
    'Escalated: "urgent" per supervisor.',
)
AIVR_PLATFORMS: tuple[str, ...] = (
    "freeSwitch",
    "freeSwitch",
    "vonageVcca",
    "vonageVcca",
    "five9VoiceStream",
    "trampoline",
)

# User groups (the userGroupIds filter): id -> member userIds. An agent may
# be in several groups; supervisors have their own.
USER_GROUPS: dict[str, tuple[str, ...]] = {
    # Tier 1: Joe, José, Zoë, Priya, Olúwaseun
    "1f0c2a4e-6b8d-4f1a-9c3e-5a7b9d1f3e01": (
        "4ed10e44-cdbd-4506-a2a0-f2eb6bf50933",
        "0b7e5a3c-3f43-4d57-9a3b-6d2f4c1a8e01",
        "6a1c9d2e-7b45-4c1f-8e2a-9f3b5d7c1e02",
        "5a7c9e1b-3d5f-4c7a-b9d1-2e4f6a8c0b08",
        "1c3e5a7b-9d1f-4a3c-8e5b-7d9f1a3c5e09",
    ),
    # Tier 2: 王芳, John Smith, Bob Jones, Amélie, Sören
    "2a1d3b5f-7c9e-4a2b-8d4f-6b8c0e2a4f02": (
        "9c2f8b1a-4d6e-4a3b-b5c7-1e9d3f5a7b03",
        "2d4f6a8c-1b3d-4e5f-a7b9-c1d3e5f7a904",
        "7e9a1c3d-5f7b-4a9c-8d1e-3f5a7b9c1d05",
        "3b5d7f9a-2c4e-4b6d-9f1a-5c7e9a1b3d06",
        "8f1b3d5e-7a9c-4e1b-a3d5-7f9b1c3e5a07",
    ),
    # Supervisors: Dana Lee, Marguerite Ó Conchúir
    "3b2e4c6a-8d0f-4b3c-9e5a-7c9d1f3b5a03": (
        "c4e6a8b0-2d4f-4b6d-8f0a-2c4e6a8b0d10",
        "d5f7b9c1-3e5a-4c7e-9a1b-3d5f7b9c1e11",
    ),
    # Spanish line: José, Amélie
    "4c3f5d7b-9e1a-4c4d-8f6b-8d0e2a4c6b04": (
        "0b7e5a3c-3f43-4d57-9a3b-6d2f4c1a8e01",
        "3b5d7f9a-2c4e-4b6d-9f1a-5c7e9a1b3d06",
    ),
}
