//! The fixed list of kinds of work an initiative does.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Medical,
    Evacuation,
    HumanitarianAid,
    Equipment,
    InfrastructureRepair,
    Shelter,
    Food,
    Children,
    Animals,
    PsychologicalSupport,
    LegalAid,
    Other,
}

impl Category {
    pub const ALL: [Category; 12] = [
        Category::Medical,
        Category::Evacuation,
        Category::HumanitarianAid,
        Category::Equipment,
        Category::InfrastructureRepair,
        Category::Shelter,
        Category::Food,
        Category::Children,
        Category::Animals,
        Category::PsychologicalSupport,
        Category::LegalAid,
        Category::Other,
    ];

    /// The stable code used in URLs, the API and storage.
    pub fn code(self) -> &'static str {
        match self {
            Category::Medical => "medical",
            Category::Evacuation => "evacuation",
            Category::HumanitarianAid => "humanitarian_aid",
            Category::Equipment => "equipment",
            Category::InfrastructureRepair => "infrastructure_repair",
            Category::Shelter => "shelter",
            Category::Food => "food",
            Category::Children => "children",
            Category::Animals => "animals",
            Category::PsychologicalSupport => "psychological_support",
            Category::LegalAid => "legal_aid",
            Category::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Category::Medical => "Medical",
            Category::Evacuation => "Evacuation",
            Category::HumanitarianAid => "Humanitarian aid",
            Category::Equipment => "Equipment",
            Category::InfrastructureRepair => "Infrastructure & repair",
            Category::Shelter => "Shelter",
            Category::Food => "Food",
            Category::Children => "Children",
            Category::Animals => "Animals",
            Category::PsychologicalSupport => "Psychological support",
            Category::LegalAid => "Legal aid",
            Category::Other => "Other",
        }
    }

    pub fn name_uk(self) -> &'static str {
        match self {
            Category::Medical => "Медицина",
            Category::Evacuation => "Евакуація",
            Category::HumanitarianAid => "Гуманітарна допомога",
            Category::Equipment => "Спорядження",
            Category::InfrastructureRepair => "Інфраструктура й ремонт",
            Category::Shelter => "Житло й прихисток",
            Category::Food => "Їжа",
            Category::Children => "Діти",
            Category::Animals => "Тварини",
            Category::PsychologicalSupport => "Психологічна підтримка",
            Category::LegalAid => "Правова допомога",
            Category::Other => "Інше",
        }
    }

    /// A hashtag-friendly name (ASCII, no separators), e.g. `HumanitarianAid`.
    pub fn hashtag(self) -> String {
        self.name_en()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_serde() {
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(c));
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.code())
            );
        }
        assert_eq!(
            Category::InfrastructureRepair.hashtag(),
            "InfrastructureRepair"
        );
    }
}
