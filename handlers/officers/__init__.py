"""Officers: invitations, enrolment, and the alerts each one wants."""

from handlers.conversation.buttons import AlertsChoice, InviteChoice
from handlers.conversation.feature import Feature
from handlers.conversation.turn import StepName
from handlers.officers.enrolment import (
    DEEP_LINK_PREFIX,
    alerts,
    alerts_button,
    answer_invite_name,
    enrol,
    invite_button,
    start_invite,
)

FEATURE = Feature(
    commands={"officer": enrol},
    deep_links={DEEP_LINK_PREFIX: enrol},
    officer_commands={"alerts": alerts, "invite": start_invite},
    officer_steps={StepName.OFFICER_INVITE: answer_invite_name},
    buttons={AlertsChoice: alerts_button, InviteChoice: invite_button},
)
