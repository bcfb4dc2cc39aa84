"""People's patrol groups: joining, shifts with checkpoints and incidents, and their officers'
administration and missed-patrol checks."""

from handlers.conversation.buttons import CommentMissed, MemberButton, PatrolsReport, RemoveMember
from handlers.conversation.feature import Feature
from handlers.conversation.turn import StepName
from handlers.patrols.admin import (
    admin_button,
    answer_missed_comment,
    members_view,
    new_patrol,
    patrol_view,
    patrols_view,
    schedule,
)
from handlers.patrols.shifts import (
    JOIN_LINK_PREFIX,
    answer_checkin_place,
    answer_checkout,
    answer_checkpoint,
    answer_incident,
    answer_name,
    checkin,
    checkout,
    join,
    leave,
    location_without_shift,
    member_button,
)

FEATURE = Feature(
    commands={
        "join": join,
        "leave": leave,
        "checkin": checkin,
        "checkout": checkout,
        # Officers set plans with it, members read theirs: one command, sorted out inside.
        "schedule": schedule,
    },
    deep_links={JOIN_LINK_PREFIX: join},
    officer_commands={
        "newpatrol": new_patrol,
        "patrols": patrols_view,
        "patrol": patrol_view,
        "members": members_view,
    },
    side_steps={
        StepName.PATROL_NAME: answer_name,
        StepName.PATROL_START: answer_checkin_place,
        StepName.PATROL_CHECKPOINT: answer_checkpoint,
        StepName.PATROL_INCIDENT: answer_incident,
        StepName.PATROL_END: answer_checkout,
    },
    officer_steps={StepName.OFFICER_MISSED: answer_missed_comment},
    buttons={
        MemberButton: member_button,
        CommentMissed: admin_button,
        RemoveMember: admin_button,
        PatrolsReport: admin_button,
    },
    strays=(location_without_shift,),
)
